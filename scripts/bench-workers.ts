/**
 * Worker orchestration overhead: N workers that exit at once, through runWorkers (wrappers, token checks,
 * environment, buffering) against spawning the same processes directly with the same concurrency, in the same
 * run, interleaved; the ratio of medians.
 *
 * It measures the current src/, not a possibly stale lib/: src uses `.js` specifiers and a few non-erasable
 * constructs (enums), so it re-runs itself with --experimental-transform-types and maps `./x.js` to `./x.ts`.
 * Run: npm exec -- node scripts/bench-workers.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExoTokens } from '../src/core/token.ts';

const FLAG = '--experimental-transform-types';
if (!process.execArgv.includes(FLAG)) {
  const again = spawnSync(
    process.execPath,
    [FLAG, '--no-warnings', import.meta.filename, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(again.status ?? 1);
}
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (/^\.\.?\/.*\.js$/.test(specifier)) return next(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});
const { runWorkers } = await import('../src/workers/index.ts');

const N = Number(process.env['BENCH_WORKERS'] ?? 40);
const PARALLEL = 4;
const ROUNDS = Number(process.env['BENCH_WORKER_ROUNDS'] ?? 7);

const dir = await mkdtemp(join(tmpdir(), 'exo-bench-workers-'));
const scripts: string[] = [];
for (let i = 0; i < N; i++) {
  const file = join(dir, `w${String(i).padStart(3, '0')}.sh`);
  await writeFile(file, 'exit 0\n');
  scripts.push(file);
}
const tokens: ExoTokens = {
  environment: 'O365Default',
  tenantId: '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d',
  organization: 'contoso.onmicrosoft.com',
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

async function viaRunner(): Promise<number> {
  const started = performance.now();
  const run = await runWorkers({
    workers: scripts.map((script) => ({ name: script, script })),
    maxParallel: PARALLEL,
    timeoutMs: 60_000,
    failFast: false,
    cwd: dir,
    env: process.env,
    tempDir: dir,
    getTokens: () => Promise.resolve(tokens),
    logger: quiet,
  });
  if (!run.ok) throw new Error('a benchmark worker failed');
  return performance.now() - started;
}

async function direct(): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < scripts.length) {
      const script = scripts[next++] ?? '';
      const child = spawn('bash', [script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.resume();
      child.stderr.resume();
      await new Promise((resolve) => child.on('close', resolve));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return performance.now() - started;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
await viaRunner();
await direct();
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  a.push(await viaRunner());
  b.push(await direct());
}
await rm(dir, { recursive: true, force: true });
const ratio = median(a) / median(b);
const perWorker = (median(a) - median(b)) / N;
console.log(
  `workers overhead ratio: ${ratio.toFixed(2)} (runner ${median(a).toFixed(0)} ms vs direct ${median(b).toFixed(0)} ms, ${perWorker.toFixed(2)} ms more per worker; ${N} workers, max-parallel ${PARALLEL}, ${ROUNDS} rounds; target <= 1.1)`,
);
