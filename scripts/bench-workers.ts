/**
 * Worker orchestration overhead: N workers that exit at once, through runWorkers against spawning the same
 * processes directly with the same concurrency, in the same run, interleaved; the ratio of medians.
 *
 * The direct baseline is like-for-like: it spawns with the options the runner uses (src/workers/process.ts):
 * the same cwd, a plain env object (process.env copied once per round plus the EXO_* variables the runner adds,
 * spread into one object per worker with EXO_WORKER, as the runner does, so Node does not enumerate process.env
 * on every spawn), `detached: true` off Windows, windowsHide, stdio ['ignore', 'pipe', 'pipe'] with both streams
 * consumed. So the ratio shows only what the runner adds: scheduling, the token check, the token variables per
 * worker, output buffering and redaction, process-group signalling, rows and logging, and for .ps1 the wrapper
 * file (written owner-only to a private temp dir, then removed).
 *
 * Two rows: .sh workers (bash <script>), and .ps1 workers, where the runner runs
 * `pwsh -NoLogo -NoProfile -NonInteractive -File <wrapper>` and the baseline the same pwsh on the user's script
 * directly, with no wrapper. `pwsh` is a no-op stand-in (`#!/bin/sh` `exit 0`) made in the bench's temp dir, put
 * first on PATH for both, so the row measures the runner and not PowerShell's start-up.
 *
 * It measures the current src/, not a possibly stale lib/ (through ./bench/transform-types.ts).
 * Run: npm exec -- node scripts/bench-workers.ts (BENCH_WORKERS, BENCH_WORKER_ROUNDS override the defaults).
 */
import './bench/transform-types.ts';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ExoTokens } from '../src/core/token.ts';
import { median } from './bench/measure.ts';

const { runWorkers } = await import('../src/workers/index.ts');
const { tokenVariables } = await import('../src/core/variables.ts');

const N = Number(process.env['BENCH_WORKERS'] ?? 40);
const PARALLEL = 4;
const ROUNDS = Number(process.env['BENCH_WORKER_ROUNDS'] ?? 9);
/** The arguments the runner gives pwsh before the wrapper's path (src/workers/interpreters.ts). */
const PWSH_ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'];

const dir = await mkdtemp(join(tmpdir(), 'exo-bench-workers-'));
// The stand-in pwsh, first on PATH: the runner passes process.env to its workers and Node resolves the command
// from the PATH of the env it spawns with, so runner and baseline both find it.
const bin = join(dir, 'bin');
await mkdir(bin);
await writeFile(join(bin, 'pwsh'), '#!/bin/sh\nexit 0\n');
await chmod(join(bin, 'pwsh'), 0o755);
process.env['PATH'] = [bin, process.env['PATH']].filter(Boolean).join(delimiter);

async function makeScripts(extension: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < N; i++) {
    const file = join(dir, `w${String(i).padStart(3, '0')}${extension}`);
    await writeFile(file, 'exit 0\n');
    files.push(file);
  }
  return files;
}
const sh = await makeScripts('.sh');
const ps1 = await makeScripts('.ps1');

const tokens: ExoTokens = {
  environment: 'O365Default',
  tenantId: '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d',
  organization: 'contoso.onmicrosoft.com', // PowerShell workers need it
  tokens: {
    exchange: {
      kind: 'exchange',
      resource: 'https://outlook.office365.com',
      token: 'eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjB9.c2lnbmF0dXJl',
      expiresOn: new Date(Date.now() + 3_600_000),
      claims: { tenantId: undefined, appId: undefined, objectId: undefined, audience: undefined, roles: [] },
    },
  },
  expiresOn: new Date(Date.now() + 3_600_000),
  warnings: [],
};
const quiet = {
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
  group: () => undefined,
};

async function viaRunner(scripts: string[]): Promise<number> {
  const started = performance.now();
  const run = await runWorkers({
    workers: scripts.map((script) => ({ name: script, script })),
    maxParallel: PARALLEL,
    timeoutMs: 60_000,
    failFast: false,
    // One process per worker: the no-op pwsh speaks no session protocol (sessions: scripts/bench-sessions.ts).
    reuseSessions: false,
    cwd: dir,
    env: process.env,
    tempDir: dir,
    getTokens: () => Promise.resolve(tokens),
    logger: quiet,
  });
  if (!run.ok) {
    const bad = run.rows.find((r) => r.result !== 'success');
    throw new Error(
      `a benchmark worker failed: ${bad?.name ?? '?'}: ${bad?.result ?? '?'} ${bad?.error ?? ''}`,
    );
  }
  return performance.now() - started;
}

/** The same processes, spawned as the runner spawns them, with nothing of the runner around them. */
async function direct(
  scripts: string[],
  command: string,
  argsFor: (script: string) => string[],
): Promise<number> {
  const started = performance.now();
  // Once per round, as the runner copies the parent environment once per run.
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) base[key] = value;
  for (const [key, value] of tokenVariables(tokens)) base[key] = value;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < scripts.length) {
      const script = scripts[next++] ?? '';
      const child = spawn(command, argsFor(script), {
        cwd: dir,
        env: { ...base, EXO_WORKER: script },
        detached: process.platform !== 'win32',
        windowsHide: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.resume();
      child.stderr.resume();
      const code = await new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', resolve);
      });
      if (code !== 0)
        throw new Error(`a direct benchmark process failed: ${command} ${script}: exit ${String(code)}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return performance.now() - started;
}

interface Row {
  label: string;
  runner: () => Promise<number>;
  direct: () => Promise<number>;
  a: number[];
  b: number[];
}
const rows: Row[] = [
  {
    label: 'workers overhead ratio',
    runner: () => viaRunner(sh),
    direct: () => direct(sh, 'bash', (script) => [script]),
    a: [],
    b: [],
  },
  {
    label: 'workers overhead ratio (.ps1 through the wrapper)',
    runner: () => viaRunner(ps1),
    direct: () => direct(ps1, 'pwsh', (script) => [...PWSH_ARGS, script]),
    a: [],
    b: [],
  },
];

try {
  // Warm-up, then interleaved rounds; which side goes first alternates, so neither always follows the other.
  for (const row of rows) {
    await row.runner();
    await row.direct();
  }
  for (let i = 0; i < ROUNDS; i++) {
    for (const row of rows) {
      if (i % 2 === 0) {
        row.a.push(await row.runner());
        row.b.push(await row.direct());
      } else {
        row.b.push(await row.direct());
        row.a.push(await row.runner());
      }
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
for (const { label, a, b } of rows) {
  const ratio = median(a) / median(b);
  const perWorker = (median(a) - median(b)) / N;
  console.log(
    `${label}: ${ratio.toFixed(2)} (runner ${median(a).toFixed(0)} ms vs direct ${median(b).toFixed(0)} ms, ${perWorker.toFixed(2)} ms more per worker; ${N} workers, max-parallel ${PARALLEL}, ${ROUNDS} rounds; target <= 1.1)${ratio > 1.1 ? ' MISSED' : ''}`,
  );
}
