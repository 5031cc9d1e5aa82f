/**
 * Sessions that connect once, measured under real pwsh with the stand-in ExchangeOnlineManagement module
 * (test/pwsh) against the emulator's Exchange admin API: 24 `.ps1` scripts of about 0.1 s at max-parallel 3, in
 * one run, three ways:
 *   (a) the seed's pattern: one pwsh that Start-Jobs each script (at most 3 at once), every job importing the
 *       module and connecting with -AccessToken;
 *   (b) runWorkers with reuse-sessions false: one pwsh and one connect per script;
 *   (c) runWorkers with reuse-sessions true: 3 sessions, each connected once.
 * Wall times, ratios and connect counts (from the stand-in's log). Targets: (c) <= 0.25 x (b) and <= 0.2 x (a).
 *
 * And the orchestration overhead per worker against spawning the same processes directly, like for like: (b)
 * against the same generated wrappers run by `pwsh -File` on 3 lanes with nothing around them; (c) against 3 pwsh
 * processes that each import, connect once and call their share of the scripts in a bare loop. Target <= 1.1.
 *
 * The connect delay models what a real Connect-ExchangeOnline costs: it downloads the tenant's cmdlet list and
 * generates a temporary module, several seconds in practice; CONNECT_DELAY_MS (2 s) is a conservative model of it.
 * Run: npm exec -- node scripts/bench-sessions.ts (BENCH_SESSION_ROUNDS, default 1, takes the median of more; the
 * (c) pair runs three times a round).
 */
import './bench/transform-types.ts';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExoTokens } from '../src/core/token.ts';
import { median } from './bench/measure.ts';

const { runWorkers, powershellWrapper, psQuote } = await import('../src/workers/index.ts');
const { tokenVariables } = await import('../src/core/variables.ts');
const { startEmulator } = await import('../test/emulator/index.ts');
const { findRealPwsh, pathWithRealPwsh, STANDIN_MODULES } = await import('../test/support/pwsh.ts');

const SCRIPTS = 24;
const PARALLEL = 3;
const CONNECT_DELAY_MS = 2000;
const ROUNDS = Number(process.env['BENCH_SESSION_ROUNDS'] ?? 1);
const ORGANIZATION = 'contoso.onmicrosoft.com';
const PWSH_ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive'];

const pwsh = findRealPwsh();
if (!pwsh) {
  console.log('sessions bench SKIPPED: needs real PowerShell 7 (pwsh); see ../shared/docs/powershell.md');
  process.exit(0);
}

const emulator = await startEmulator();
const dir = await mkdtemp(join(tmpdir(), 'exo-bench-sessions-'));
const log = join(dir, 'module.log');
await mkdir(join(dir, 'tmp'));
const scripts: string[] = [];
for (let i = 0; i < SCRIPTS; i++) {
  const file = join(dir, `check-${String(i).padStart(2, '0')}.ps1`);
  await writeFile(file, '$null = Get-Mailbox -ResultSize 1\nStart-Sleep -Milliseconds 100\n');
  scripts.push(file);
}

const token = emulator.exchange.mintToken({ lifetimeSeconds: 3 * 3600 });
const expiresOn = new Date(Date.now() + 3 * 3600_000 - 60_000);
const tokens: ExoTokens = {
  environment: 'O365Default',
  tenantId: emulator.tenantId,
  organization: ORGANIZATION,
  tokens: {
    exchange: {
      kind: 'exchange',
      resource: emulator.exchange.url,
      token,
      expiresOn,
      claims: { tenantId: undefined, appId: undefined, objectId: undefined, audience: undefined, roles: [] },
    },
  },
  expiresOn,
  warnings: [],
};
const env: NodeJS.ProcessEnv = {
  HOME: process.env['HOME'],
  PATH: pathWithRealPwsh(pwsh),
  PSModulePath: STANDIN_MODULES,
  SSL_CERT_FILE: emulator.caFile,
  EXO_STANDIN_MODULE_LOG: log,
  EXO_STANDIN_CONNECT_DELAY_MS: String(CONNECT_DELAY_MS),
  POWERSHELL_TELEMETRY_OPTOUT: '1',
  POWERSHELL_UPDATECHECK: 'Off',
};
const withTokens: NodeJS.ProcessEnv = { ...env, ...Object.fromEntries(tokenVariables(tokens)) };
const connectUri = `${emulator.exchange.url}/powershell-liveid/`;
const connect = `Connect-ExchangeOnline -AccessToken $env:EXO_ACCESS_TOKEN -Organization ${psQuote(ORGANIZATION)} -ConnectionUri ${psQuote(connectUri)} -ShowBanner:$false`;

function connects(): number {
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"event":"connect"')).length;
}

function spawnPwsh(args: string[], childEnv: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(pwsh?.path ?? 'pwsh', [...PWSH_ARGS, ...args], {
    cwd: dir,
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`pwsh ${args.join(' ')} exited ${String(code)}: ${output}`));
    });
  });
}

/** (a): the seed's Start-Job pattern, throttled to PARALLEL jobs. */
async function seedPattern(): Promise<void> {
  const file = join(dir, 'seed.ps1');
  await writeFile(
    file,
    [
      "$ErrorActionPreference = 'Stop'",
      `$scripts = @(${scripts.map(psQuote).join(', ')})`,
      '$jobs = foreach ($script in $scripts) {',
      `  while (@(Get-Job -State Running).Count -ge ${PARALLEL}) { $null = Wait-Job -Job @(Get-Job -State Running) -Any }`,
      '  Start-Job -ArgumentList $script -ScriptBlock {',
      '    param($script)',
      "    $ErrorActionPreference = 'Stop'",
      '    Import-Module ExchangeOnlineManagement',
      `    ${connect}`,
      '    try { & $script } finally { Disconnect-ExchangeOnline -Confirm:$false }',
      '  }',
      '}',
      '$failed = @($jobs | Wait-Job | Where-Object { $_.State -ne "Completed" })',
      '$jobs | Receive-Job | Out-Null',
      'if ($failed.Count -gt 0) { throw "$($failed.Count) jobs failed" }',
    ].join('\n'),
  );
  await spawnPwsh(['-File', file], withTokens);
}

async function viaRunner(reuseSessions: boolean): Promise<void> {
  const run = await runWorkers({
    workers: scripts.map((script) => ({ name: script, script })),
    maxParallel: PARALLEL,
    timeoutMs: 10 * 60_000,
    failFast: false,
    reuseSessions,
    cwd: dir,
    env,
    tempDir: join(dir, 'tmp'),
    getTokens: () => Promise.resolve(tokens),
    logger: {
      info: () => undefined,
      warning: () => undefined,
      error: () => undefined,
      group: () => undefined,
    },
  });
  if (process.env['BENCH_SESSION_ROWS'])
    console.log(run.rows.map((r) => `${r.session ?? '-'}:${r.connectMs ?? 0}+${r.durationMs}`).join(' '));
  const bad = run.rows.find((r) => r.result !== 'success');
  if (bad) throw new Error(`a benchmark worker failed: ${bad.name}: ${bad.result} ${bad.error ?? ''}`);
}

async function inLanes(count: number, work: (lane: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, lane) => work(lane)));
}

/** (b) direct: the runner's own wrappers, written beforehand, run by pwsh -File on PARALLEL lanes. */
async function directWrappers(): Promise<void> {
  const wrappers = await Promise.all(
    scripts.map(async (script, i) => {
      const file = join(dir, `direct-wrapper-${i}.ps1`);
      const resources = { exchange: emulator.exchange.url };
      const text = powershellWrapper({
        script,
        organization: ORGANIZATION,
        environment: 'O365Default',
        compliance: false,
        resources,
      });
      await writeFile(file, text);
      return file;
    }),
  );
  let next = 0;
  await inLanes(PARALLEL, async () => {
    while (next < wrappers.length) {
      const file = wrappers[next++] ?? '';
      await spawnPwsh(['-File', file], { ...withTokens, EXO_WORKER: file });
    }
  });
}

/** (c) direct: PARALLEL pwsh processes, each connecting once and calling its share of the scripts in a loop. */
async function directLoops(): Promise<void> {
  await inLanes(PARALLEL, async (lane) => {
    const mine = scripts.filter((_, i) => i % PARALLEL === lane);
    const file = join(dir, `direct-loop-${lane}.ps1`);
    await writeFile(
      file,
      [
        "$ErrorActionPreference = 'Stop'",
        'Import-Module ExchangeOnlineManagement',
        connect,
        `foreach ($script in @(${mine.map(psQuote).join(', ')})) { & $script }`,
        'Disconnect-ExchangeOnline -Confirm:$false',
      ].join('\n'),
    );
    await spawnPwsh(['-File', file], withTokens);
  });
}

interface Subject {
  label: string;
  run: () => Promise<void>;
  times: number[];
  connects: number[];
}
const subjects: Subject[] = [
  { label: '(a) seed pattern: one pwsh, Start-Job per script', run: seedPattern },
  { label: '(b) reuse-sessions: false', run: () => viaRunner(false) },
  { label: '(b) direct: the same wrappers, pwsh -File', run: directWrappers },
  { label: '(c) reuse-sessions: true', run: () => viaRunner(true) },
  { label: '(c) direct: 3 pwsh loops, one connect each', run: directLoops },
].map((s) => ({ ...s, times: [], connects: [] }));

// BENCH_SESSION_ONLY=c: only the subjects whose label starts with (c), for looking at one pair.
const only = process.env['BENCH_SESSION_ONLY'];
try {
  for (let round = 0; round < ROUNDS; round++) {
    // The short (c) pair goes three times per round, interleaved: its ratio is the one noise moves most.
    const order = [...subjects.slice(0, 3), ...[0, 1, 2].flatMap(() => subjects.slice(3))];
    for (const subject of order) {
      if (only && !subject.label.startsWith(`(${only})`)) continue;
      await rm(log, { force: true });
      const started = performance.now();
      await subject.run();
      subject.times.push(performance.now() - started);
      subject.connects.push(connects());
    }
  }
} finally {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
}

const [a, b, bDirect, c, cDirect] = subjects.map((s) => ({
  ms: median(s.times),
  connects: median(s.connects),
  label: s.label,
}));
if (!a || !b || !bDirect || !c || !cDirect) throw new Error('a subject is missing');
if (only) {
  for (const s of [a, b, bDirect, c, cDirect])
    if (s.ms > 0) console.log(`  ${s.label.padEnd(50)} ${(s.ms / 1000).toFixed(2)} s`);
  process.exit(0);
}
const verdict = (value: number, target: number): string => (value <= target ? 'ok' : 'MISSED');
const ratio = (x: number, y: number): number => x / y;
console.log(
  `sessions bench: ${SCRIPTS} .ps1 scripts of ~0.1 s, max-parallel ${PARALLEL}, pwsh ${pwsh.version}, stand-in connect delay ${CONNECT_DELAY_MS} ms (model), ${ROUNDS} round(s):`,
);
for (const s of [a, b, bDirect, c, cDirect])
  console.log(`  ${s.label.padEnd(50)} ${(s.ms / 1000).toFixed(2).padStart(7)} s   connects ${s.connects}`);
const cb = ratio(c.ms, b.ms);
const ca = ratio(c.ms, a.ms);
console.log(`  (c) vs (b): ${cb.toFixed(2)}x (target <= 0.25) ${verdict(cb, 0.25)}`);
console.log(`  (c) vs (a): ${ca.toFixed(2)}x (target <= 0.2) ${verdict(ca, 0.2)}`);
const counts = [a.connects, b.connects, c.connects];
const expected = [SCRIPTS, SCRIPTS, PARALLEL];
console.log(
  `  connects: ${counts.join(', ')} (expected exactly ${expected.join(', ')}) ${counts.every((n, i) => n === expected[i]) ? 'ok' : 'MISSED'}`,
);
for (const [runner, direct] of [
  [b, bDirect],
  [c, cDirect],
] as const) {
  const r = ratio(runner.ms, direct.ms);
  console.log(
    `  overhead ${runner.label.slice(0, 3)} vs direct: ${r.toFixed(2)}x, ${((runner.ms - direct.ms) / SCRIPTS).toFixed(0)} ms per worker (target <= 1.1) ${verdict(r, 1.1)}`,
  );
}
