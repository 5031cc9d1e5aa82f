/**
 * Runs the built action the way the GitHub runner does (runner-contract.md): INPUT_* variables with action.yml's
 * defaults, GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STEP_SUMMARY / GITHUB_STATE files, RUNNER_TEMP, stdout commands.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ACTION_ENTRY = join(ROOT, 'dist', 'index.js');

interface ActionYml {
  inputs: Record<string, { default?: string }>;
}

const actionYml = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as ActionYml;

export interface ActionRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  exported: Record<string, string>;
  summary: string;
  state: string;
  /** Values the action asked the runner to mask, in order. */
  masks: string[];
  runnerTemp: string;
  /** What the action left in RUNNER_TEMP. */
  runnerTempEntries: string[];
  durationMs: number;
}

/** `name<<DELIM\nvalue\nDELIM\n` records, as @actions/core writes them. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!match?.[1] || !match[2]) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i] ?? '');
    result[match[1]] = value.join('\n');
  }
  return result;
}

export interface RunOptions {
  inputs?: Record<string, string>;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Called with the child once spawned (to signal it in cancellation tests). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  cwd?: string;
}

export async function runAction(options: RunOptions = {}): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-runner-'));
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
  };
  for (const file of Object.values(files)) await writeFile(file, '');
  const runnerTemp = await mkdtemp(join(dir, 'temp-'));
  const env: Record<string, string> = {};
  // Only what a runner passes: no inherited INPUT_* or GitHub variables from the developer's shell.
  for (const [key, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !key.startsWith('INPUT_') &&
      !key.startsWith('GITHUB_') &&
      !key.startsWith('ACTIONS_')
    ) {
      env[key] = value;
    }
  }
  for (const [name, input] of Object.entries(actionYml.inputs)) {
    if (input.default !== undefined) env[`INPUT_${name.toUpperCase()}`] = input.default;
  }
  for (const [name, value] of Object.entries(options.inputs ?? {}))
    env[`INPUT_${name.toUpperCase()}`] = value;
  Object.assign(env, files, {
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: runnerTemp,
    GITHUB_WORKSPACE: options.cwd ?? ROOT,
  });
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) Reflect.deleteProperty(env, key);
    else env[key] = value;
  }

  const started = Date.now();
  const child = spawn(process.execPath, [ACTION_ENTRY], {
    env,
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  const read = (file: string) => readFile(file, 'utf8');
  const result: ActionRun = {
    code,
    signal,
    stdout,
    stderr,
    outputs: parseFileCommands(await read(files.GITHUB_OUTPUT)),
    exported: parseFileCommands(await read(files.GITHUB_ENV)),
    summary: await read(files.GITHUB_STEP_SUMMARY),
    state: await read(files.GITHUB_STATE),
    masks: [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1] ?? ''),
    runnerTemp,
    runnerTempEntries: await readdir(runnerTemp),
    durationMs: Date.now() - started,
  };
  await rm(dir, { recursive: true, force: true });
  return result;
}

/**
 * Every secret is masked, and its mask comes before anything else that contains it; no secret appears in
 * stdout (other than its own mask line), stderr, or the job summary.
 */
export function leaks(run: ActionRun, secrets: readonly string[]): string[] {
  const problems: string[] = [];
  for (const secret of secrets) {
    if (secret === '') continue;
    const maskLine = `::add-mask::${secret}\n`;
    const maskAt = run.stdout.indexOf(maskLine);
    if (maskAt === -1) problems.push(`secret …${secret.slice(-6)} was never masked`);
    const withoutMask = run.stdout.split(maskLine).join('');
    if (withoutMask.includes(secret)) problems.push(`secret …${secret.slice(-6)} printed on stdout`);
    if (run.stderr.includes(secret)) problems.push(`secret …${secret.slice(-6)} printed on stderr`);
    if (run.summary.includes(secret)) problems.push(`secret …${secret.slice(-6)} in the job summary`);
    // A partial token (e.g. a JWT header+payload) is as bad as the whole one.
    const signatureless = secret.slice(0, secret.lastIndexOf('.'));
    if (signatureless.length > 20 && withoutMask.includes(signatureless))
      problems.push('a token prefix printed on stdout');
  }
  return problems;
}

/** First workflow command `::error::` message, unescaped the way the runner shows it. */
export function errorAnnotation(run: ActionRun): string | undefined {
  const match = /^::error::(.*)$/m.exec(run.stdout);
  return match?.[1]?.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
}
