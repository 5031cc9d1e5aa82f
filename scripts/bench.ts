/**
 * `npm run bench`: the action's whole-process time on the local emulator, as ratios against baselines measured
 * in the same run (these machines are noisy): `node -e 0`, and a plain unbundled msal-node script doing the same
 * flow (scripts/bench/plain-msal.mjs). Runs are interleaved; medians are compared. Peak RSS from GNU time.
 * Then the worker runner's overhead (scripts/bench-workers.ts), sessions under real pwsh (scripts/bench-sessions.ts)
 * and `exo-login invoke` (scripts/bench-invoke.ts).
 */
// First: the emulator uses TypeScript that type stripping alone cannot run (parameter properties).
import './bench/transform-types.ts';
import { median, timedNode } from './bench/measure.ts';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 15);

const { startEmulator } = await import('../test/emulator/index.ts');
const emulator = await startEmulator();
const dir = await mkdtemp(join(tmpdir(), 'exo-bench-'));
const output = join(dir, 'output');
const baseEnv: Record<string, string> = {
  PATH: process.env['PATH'] ?? '',
  HOME: process.env['HOME'] ?? '',
  ...emulator.env,
  GITHUB_ACTIONS: 'true',
  GITHUB_OUTPUT: output,
  GITHUB_ENV: join(dir, 'env'),
  GITHUB_STATE: join(dir, 'state'),
  RUNNER_TEMP: dir,
  'INPUT_TENANT-ID': emulator.tenantId,
  'INPUT_CLIENT-ID': emulator.clientId,
  'INPUT_AUTHORITY-HOST': emulator.authorityHost,
  INPUT_ENVIRONMENT: 'O365Default',
  INPUT_RESOURCES: 'exchange',
  'INPUT_EXPORT-ENV': 'false',
  'INPUT_MAX-PARALLEL': '3',
  'INPUT_TIMEOUT-MINUTES': '30',
  'INPUT_FAIL-FAST': 'false',
};

interface Subject {
  name: string;
  args: string[];
  checkOutput: boolean;
}
const subjects: Subject[] = [
  { name: 'node -e 0', args: ['-e', '0'], checkOutput: false },
  { name: 'exo-login (dist/index.js)', args: [join(ROOT, 'dist/index.js')], checkOutput: true },
  { name: 'plain msal-node script', args: [join(ROOT, 'scripts/bench/plain-msal.mjs')], checkOutput: true },
];

async function once(subject: Subject): Promise<{ ms: number; rssKb: number | undefined }> {
  await writeFile(output, '');
  const run = await timedNode(subject.name, subject.args, { env: baseEnv, cwd: ROOT });
  if (subject.checkOutput) {
    const { readFile } = await import('node:fs/promises');
    if (!(await readFile(output, 'utf8')).includes('access-token<<'))
      throw new Error(`${subject.name} set no access-token`);
  }
  return { ms: run.ms, rssKb: run.rssKb };
}

/**
 * Interleaved rounds over the subjects. With latencyMs, the emulator holds every OIDC and Entra answer that long,
 * as a real network would: it shows whether work overlaps the waits rather than adding to them.
 */
async function measure(latencyMs: number) {
  const times = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const rss = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const subject of subjects) {
      // node -e 0 makes no request, so only the subjects that do get the delays.
      if (latencyMs > 0 && subject.checkOutput) {
        emulator.injectFaults('oidc', [{ kind: 'delay', ms: latencyMs }]);
        emulator.injectFaults('token', [{ kind: 'delay', ms: latencyMs }]);
      }
      const result = await once(subject);
      times.get(subject.name)?.push(result.ms);
      if (result.rssKb !== undefined) rss.get(subject.name)?.push(result.rssKb);
    }
  }
  return {
    med: (name: string): number => median(times.get(name) ?? []),
    peakMiB: (name: string): string => {
      const values = rss.get(name) ?? [];
      return values.length ? `${(Math.max(...values) / 1024).toFixed(1)} MiB` : 'n/a';
    },
  };
}

// Warm the OS file cache and the emulator's TLS once per subject before measuring.
for (const subject of subjects) await once(subject);
emulator.reset();
const local = await measure(0);
const counts = emulator.counts();
const LATENCY_MS = 40;
const slow = await measure(LATENCY_MS);
await emulator.close();
await rm(dir, { recursive: true, force: true });

const action = subjects[1]?.name ?? '';
const node0 = subjects[0]?.name ?? '';
const plain = subjects[2]?.name ?? '';
console.log(`node ${process.version}, ${rounds} interleaved rounds, medians:`);
for (const subject of subjects) {
  console.log(
    `  ${subject.name.padEnd(28)} ${local.med(subject.name).toFixed(1).padStart(7)} ms   peak RSS ${local.peakMiB(subject.name)}`,
  );
}
console.log(`emulator requests during the measured rounds: ${JSON.stringify(counts)} (${rounds * 2} runs)`);
console.log(
  `action vs plain msal-node script: ${(local.med(action) / local.med(plain)).toFixed(2)}x (target <= 0.45x)`,
);
console.log(`action vs node -e 0:              ${(local.med(action) / local.med(node0)).toFixed(2)}x`);
console.log(`action above node -e 0:           ${(local.med(action) - local.med(node0)).toFixed(1)} ms`);
console.log(
  `with ${LATENCY_MS} ms before each answer: action ${slow.med(action).toFixed(1)} ms, plain ${slow.med(plain).toFixed(1)} ms, ` +
    `ratio ${(slow.med(action) / slow.med(plain)).toFixed(2)}x; action above node -e 0: ${(slow.med(action) - slow.med(node0)).toFixed(1)} ms`,
);

if (!process.argv.includes('--no-workers')) {
  const workers = spawnSync(process.execPath, [join(ROOT, 'scripts/bench-workers.ts')], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  const sessions = spawnSync(process.execPath, [join(ROOT, 'scripts/bench-sessions.ts')], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  process.exitCode = (workers.status ?? 1) || (sessions.status ?? 1);
}

if (!process.argv.includes('--no-invoke')) {
  const invoke = spawnSync(process.execPath, [join(ROOT, 'scripts/bench-invoke.ts')], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  if (invoke.status !== 0) process.exitCode = invoke.status ?? 1;
}
