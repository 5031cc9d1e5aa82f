// A namespace import: fs.glob is Node 22+, and a named import would stop the library loading on Node 20.
import * as fs from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ExoLoginError } from '../core/errors.js';

export interface Shard {
  /** 1-based. */
  index: number;
  total: number;
}

/**
 * Expands paths and globs relative to `cwd`, dedupes, and sorts by POSIX relative path in code-point order,
 * so every job of a matrix sees the same list whatever the OS or file system order.
 */
export async function expandScripts(
  patterns: readonly string[],
  cwd: string,
  input = 'scripts',
): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const matches: string[] = [];
    if (/[*?[{]/.test(pattern)) {
      const glob = (fs as Partial<typeof fs>).glob;
      if (!glob) {
        throw new ExoLoginError(
          `Input '${input}': '${pattern}' is a glob, and globs need Node 22 or later (this is Node ${process.versions.node}). List the files, or use a newer Node.`,
          'input',
        );
      }
      for await (const match of glob(pattern, { cwd })) matches.push(resolve(cwd, match));
    } else {
      const path = resolve(cwd, pattern);
      if (await isFile(path)) matches.push(path);
    }
    const files: string[] = [];
    for (const match of matches) if (await isFile(match)) files.push(match);
    if (files.length === 0) {
      throw new ExoLoginError(
        `Input '${input}': '${pattern}' matches no file in ${cwd}. Check the path, the glob and working-directory.`,
        'input',
      );
    }
    for (const file of files) found.add(file);
  }
  return sortScripts([...found], cwd);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

export function posixRelative(path: string, cwd: string): string {
  const rel = isAbsolute(path) ? relative(cwd, path) : path;
  return rel.split(sep).join('/');
}

export function sortScripts(paths: readonly string[], cwd: string): string[] {
  const key = (p: string): string => posixRelative(p, cwd);
  return [...paths].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Round-robin share: item k goes to shard (k mod n) + 1. Balanced to within one, and the shards partition the list. */
export function shardOf<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, k) => k % shard.total === shard.index - 1);
}

/**
 * The matrix for a plan job: `{"shard":["1/4",…,"4/4"]}`, used as `strategy.matrix: ${{ fromJSON(…) }}` with
 * `shard: ${{ matrix.shard }}` passed straight back to the action.
 */
export function shardMatrix(total: number): { shard: string[] } {
  return { shard: Array.from({ length: total }, (_, i) => `${i + 1}/${total}`) };
}
