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
/** The built action. EXO_TEST_ACTION_ENTRY points the tests at another build, e.g. a mutated copy of dist/. */
export const ACTION_ENTRY = process.env['EXO_TEST_ACTION_ENTRY'] ?? join(ROOT, 'dist', 'index.js');

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
  /** Contents of every file left in RUNNER_TEMP, by path relative to it. */
  runnerTempFiles: Record<string, string>;
  durationMs: number;
}

async function readTree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length + 1)] = await readFile(path, 'utf8');
  }
  return files;
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
    runnerTempFiles: await readTree(runnerTemp),
    durationMs: Date.now() - started,
  };
  await rm(dir, { recursive: true, force: true });
  return result;
}

const WINDOW = 32;
const MIN_PART = 21;

/**
 * What of a secret must never be printed: each JWT part longer than 20 characters and every 32-character window of
 * the token, except its header. A JWT header names only the algorithm and the signing key (alg, typ, kid, x5t),
 * which the issuer publishes in its JWKS; every token from one key shares it (the ID tokens of a run, often
 * tokens of different runs), so printing it reveals nothing and flagging it would be noise. Windows that reach
 * past the header's final '.' into the payload are checked. Non-JWT secrets are checked whole and by window.
 */
function fragmentsOf(secret: string): { parts: string[]; windows: string[] } {
  const parts = secret.split('.');
  const jwt = parts.length === 3;
  const headerLength = jwt ? (parts[0]?.length ?? 0) : 0;
  const windows: string[] = [];
  for (let i = 0; i + WINDOW <= secret.length; i++) {
    // Windows wholly inside the header (and its trailing '.') are public.
    if (jwt && i + WINDOW <= headerLength + 1) continue;
    windows.push(secret.slice(i, i + WINDOW));
  }
  const checked = jwt ? parts.slice(1) : [secret];
  return { parts: checked.filter((p) => p.length >= MIN_PART), windows };
}

/**
 * Every secret is masked; no part of one (see fragmentsOf) appears in stdout (other than `::add-mask::` lines),
 * stderr, the job summary, GITHUB_STATE, or any file left in RUNNER_TEMP. GITHUB_OUTPUT / GITHUB_ENV are where
 * tokens are meant to go and are not searched. Pass every token the run handled (the emulator's `issued`).
 */
export function leaks(run: ActionRun, secrets: readonly string[]): string[] {
  const problems: string[] = [];
  const stdoutWithoutMasks = run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  const places: [string, string][] = [
    ['stdout', stdoutWithoutMasks],
    ['stderr', run.stderr],
    ['the job summary', run.summary],
    ['GITHUB_STATE', run.state],
    ...Object.entries(run.runnerTempFiles).map(([path, text]): [string, string] => [
      `RUNNER_TEMP/${path}`,
      text,
    ]),
  ];
  const name = (secret: string): string => `secret …${secret.slice(-6)}`;
  const byWindow = new Map<string, string>();
  for (const secret of new Set(secrets)) {
    if (secret === '') continue;
    if (!run.stdout.includes(`::add-mask::${secret}\n`)) problems.push(`${name(secret)} was never masked`);
    const { parts, windows } = fragmentsOf(secret);
    for (const window of windows) if (!byWindow.has(window)) byWindow.set(window, secret);
    for (const [place, text] of places) {
      if (text.includes(secret)) problems.push(`${name(secret)} in ${place}`);
      else if (parts.some((part) => text.includes(part)))
        problems.push(`a JWT part of ${name(secret)} in ${place}`);
    }
  }
  if (byWindow.size > 0) {
    for (const [place, text] of places) {
      const found = new Set<string>();
      for (let i = 0; i + WINDOW <= text.length; i++) {
        const secret = byWindow.get(text.slice(i, i + WINDOW));
        if (secret !== undefined) found.add(secret);
      }
      for (const secret of found) problems.push(`${WINDOW} characters of ${name(secret)} in ${place}`);
    }
  }
  return problems;
}

/** First workflow command `::error::` message, unescaped the way the runner shows it. */
export function errorAnnotation(run: ActionRun): string | undefined {
  const match = /^::error::(.*)$/m.exec(run.stdout);
  return match?.[1]?.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
}
