// A namespace import: fs.glob is Node 22+, and a named import would stop the library loading on Node 20.
import * as fs from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ExoLoginError, InputError } from '../core/errors.js';
import { input as inputName, listed, quoted, settingLabel, type SettingName } from '../core/names.js';
import { interpreterFor, RUNNABLE_EXTENSIONS } from './interpreters.js';

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
  input: SettingName = inputName('scripts'),
): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const matches: string[] = [];
    if (/[*?[{]/.test(pattern)) {
      const glob = (fs as Partial<typeof fs>).glob;
      if (!glob) {
        throw new ExoLoginError(
          `${settingLabel(input)}: ${quoted(pattern)} is a glob, and globs need Node 22 or later (this is Node ${process.versions.node}). List the files, or use a newer Node.`,
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
        `${settingLabel(input)}: ${quoted(pattern)} matches no file in ${cwd}. Check the path, the glob and working-directory.`,
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

/** Every shard's scripts (relative to `cwd`): the action's `matrix` output, `{"include":[{shard, scripts}]}`. */
export function shardPlan(
  all: readonly string[],
  total: number,
  cwd: string,
): { shard: string; scripts: string[] }[] {
  return Array.from({ length: total }, (_, i) => ({
    shard: `${i + 1}/${total}`,
    scripts: shardOf(all, { index: i + 1, total }).map((p) => posixRelative(p, cwd)),
  }));
}

export interface WorkerPlanOptions {
  patterns: readonly string[];
  /** Where patterns are resolved and workers run; must be an existing directory. */
  cwd: string;
  shard: Shard | undefined;
  /** An inline PowerShell script is also run. */
  inline: boolean;
  organization: string | undefined;
  /** An Exchange token will be minted (the wrapper connects with it before anything else). */
  exchange: boolean;
  /** How the front end names each setting in its errors ('scripts' or 'SCRIPT', 'organization' or '--organization'). */
  names: {
    scripts: SettingName;
    workingDirectory: SettingName;
    organization: SettingName;
    resources: SettingName;
  };
}

export interface WorkerPlan {
  cwd: string;
  /** Every matched script, sorted: the list shards are cut from. */
  all: string[];
  /** This job's share (all of them without a shard). */
  mine: string[];
}

/**
 * Everything about the workers that can be wrong before a token exists: the directory, each pattern, each
 * script's kind, and the organization PowerShell needs. Front ends call this before sending any request.
 */
export async function planWorkers(options: WorkerPlanOptions): Promise<WorkerPlan> {
  const { names, cwd } = options;
  if (!(await isDirectory(cwd))) {
    throw new InputError(names.workingDirectory, `must be an existing directory; ${cwd} is not one.`);
  }
  const all = options.patterns.length > 0 ? await expandScripts(options.patterns, cwd, names.scripts) : [];
  const unsupported = all.filter((script) => interpreterFor(script) === undefined);
  if (unsupported.length > 0) {
    throw new InputError(
      names.scripts,
      `matched ${listed(unsupported.map((p) => posixRelative(p, cwd)))}, which exo-login cannot run: use ${RUNNABLE_EXTENSIONS.join(', ')} files (narrow the glob to those).`,
    );
  }
  // Checked over the whole list, not this shard's, so every job of a matrix fails the same way.
  const powershell = options.inline || all.some((script) => interpreterFor(script)?.powershell === true);
  if (powershell && !options.exchange) {
    throw new InputError(
      names.resources,
      'must include exchange for PowerShell workers: each connects with Connect-ExchangeOnline first (e.g. exchange, compliance).',
    );
  }
  if (powershell && !options.organization) {
    throw new InputError(
      names.organization,
      "is needed for PowerShell workers (Connect-ExchangeOnline -Organization): set it to the tenant's initial domain, e.g. contoso.onmicrosoft.com, or give the tenant as that domain.",
    );
  }
  return { cwd, all, mine: options.shard ? shardOf(all, options.shard) : all };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}
