/**
 * What the benchmarks share: one timed Node process, with its peak RSS where GNU time is installed, and medians.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const TIME = '/usr/bin/time';
export const haveTime = existsSync(TIME);

export interface Timed {
  ms: number;
  rssKb: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `node …args` to its end, timed from spawn to close; a non-zero exit throws with what it printed. */
export async function timedNode(
  name: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<Timed> {
  const command = haveTime ? TIME : process.execPath;
  const argv = haveTime ? ['-f', 'RSS_KB=%M', process.execPath, ...args] : [...args];
  const started = performance.now();
  const child = spawn(command, argv, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`${name} exited ${code}: ${stderr}`);
  const rss = /RSS_KB=(\d+)/.exec(stderr)?.[1];
  return { ms, rssKb: rss === undefined ? undefined : Number(rss), stdout, stderr };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
