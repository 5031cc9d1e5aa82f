/**
 * runWorkers with reused sessions (the default) under real pwsh, with the stand-in ExchangeOnlineManagement module
 * against the emulator's admin API: connect counts, rows, faults, fresh tokens, cancellation, no orphans.
 * A run costs one pwsh start per session, so each case is one run holding many scripts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, expect, it } from 'vitest';
import { claimsOf, type ExoTokens } from '../../src/core/token.js';
import { runWorkers, type RunWorkersOptions, type WorkerRun } from '../../src/workers/index.js';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { markedProcesses } from '../pwsh/harness.ts';
import { describePwsh, standinModuleEnv, type ModuleEvent, type RealPwsh } from '../support/pwsh.ts';
import { alive, recordingLogger, sleep, type Recorded } from '../support/workers.js';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

interface Setup {
  dir: string;
  log: string;
  recorded: Recorded;
  /** Every Exchange token handed to the runner, in order. */
  minted: string[];
  run(overrides?: Partial<RunWorkersOptions>): Promise<WorkerRun>;
}

function tokensOf(lifetimeSeconds: number): ExoTokens {
  const exchange = emulator.exchange.mintToken({ lifetimeSeconds });
  const claims = claimsOf(exchange);
  // The token's own exp (whole seconds), as the session reads it.
  const payload = JSON.parse(Buffer.from(exchange.split('.')[1] ?? '', 'base64url').toString()) as {
    exp: number;
  };
  const expiresOn = new Date(payload.exp * 1000);
  return {
    environment: 'O365Default',
    tenantId: emulator.tenantId,
    organization: 'contoso.onmicrosoft.com',
    tokens: {
      exchange: { kind: 'exchange', resource: emulator.exchange.url, token: exchange, expiresOn, claims },
    },
    expiresOn,
    warnings: [],
  };
}

async function setup(
  pwsh: RealPwsh,
  files: Record<string, string>,
  options: { lifetimeSeconds?: number; connectDelayMs?: number } = {},
): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-sessions-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  await mkdir(join(dir, 'tmp'));
  const log = join(dir, '.module.log');
  const recorded = recordingLogger();
  const minted: string[] = [];
  let held: ExoTokens | undefined;
  // As ExoLoginSession.tokensValidUntil: the current tokens while they last long enough, else a fresh mint.
  const getTokens = (minValidUntil: Date): Promise<ExoTokens> => {
    if (!held || held.expiresOn < minValidUntil) {
      held = tokensOf(options.lifetimeSeconds ?? 3600);
      minted.push(held.tokens.exchange?.token ?? '');
    }
    return Promise.resolve(held);
  };
  return {
    dir,
    log,
    recorded,
    minted,
    run: (overrides = {}) =>
      runWorkers({
        workers: Object.keys(files)
          .sort()
          .map((name) => ({ name, script: join(dir, name) })),
        maxParallel: 3,
        timeoutMs: 60_000,
        failFast: false,
        cwd: dir,
        env: {
          HOME: process.env['HOME'],
          ...standinModuleEnv(pwsh, {
            caFile: emulator.caFile,
            moduleLog: log,
            connectDelayMs: options.connectDelayMs ?? 0,
          }),
        },
        tempDir: join(dir, 'tmp'),
        getTokens,
        logger: recorded.logger,
        killGraceMs: 1000,
        ...overrides,
      }),
  };
}

function moduleEvents(s: Setup): ModuleEvent[] {
  if (!existsSync(s.log)) return [];
  return readFileSync(s.log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ModuleEvent)
    .filter((e) => e.event !== 'cmdlet');
}

const count = (events: ModuleEvent[], event: ModuleEvent['event']): number =>
  events.filter((e) => e.event === event).length;

/** A script that prints its name, checks the connection, and shows the command lines of its session's pwsh. */
const CHECK = [
  '"I am $(Split-Path -Leaf $PSCommandPath), worker $env:EXO_WORKER"',
  '"mailboxes $(@(Get-Mailbox -ResultSize 2).Count)"',
  '$parent = (Get-Content -Raw "/proc/$PID/stat").Split(")")[1].Trim().Split(" ")[1]',
  '"argv: " + (Get-Content -Raw "/proc/$PID/cmdline") + " | " + (Get-Content -Raw "/proc/$parent/cmdline")',
  'Start-Sleep -Milliseconds 100',
  '"federated: federated-token-0123456789"',
].join('\n');

describePwsh('reused PowerShell sessions under real pwsh', (pwsh) => {
  it('runs N scripts on max-parallel sessions with one connect each; other workers run alone', async () => {
    const files: Record<string, string> = { 'z.sh': 'echo "sh sees $EXO_ORGANIZATION"' };
    for (let i = 1; i <= 7; i++) files[`checks/c${i}.ps1`] = CHECK;
    const s = await setup(pwsh, files);
    // A secret the run keeps from the log besides the tokens (exo-login run: a federated token) is redacted too.
    const run = await s.run({ secrets: () => ['federated-token-0123456789'] });
    expect(run.rows.map((r) => [r.name, r.result])).toEqual(
      Object.keys(files)
        .sort()
        .map((name) => [name, 'success']),
    );
    const events = moduleEvents(s);
    expect(count(events, 'connect')).toBe(3);
    expect(count(events, 'disconnect')).toBe(3);
    expect(new Set(events.map((e) => e.pid)).size).toBe(3);
    const ps1 = run.rows.filter((r) => r.name.endsWith('.ps1'));
    expect(new Set(ps1.map((r) => r.session))).toEqual(new Set([1, 2, 3]));
    // Each session's first script paid its connect (reported apart from its duration); the rest paid none.
    for (const n of [1, 2, 3]) {
      const mine = ps1.filter((r) => r.session === n);
      expect(mine[0]?.connectMs).toBeGreaterThan(0);
      expect(mine.slice(1).every((r) => r.connectMs === 0)).toBe(true);
    }
    expect(run.rows.find((r) => r.name === 'z.sh')).not.toHaveProperty('session');
    // Every group holds its own script's output and nobody else's; no token on any pwsh command line.
    for (const group of s.recorded.groups.filter((g) => g.title.includes('.ps1'))) {
      const name = /checks\/(c\d)\.ps1/.exec(group.title)?.[1] ?? '?';
      expect(group.lines.filter((l) => l.startsWith('I am'))).toEqual([
        `I am ${name}.ps1, worker checks/${name}.ps1`,
      ]);
      expect(group.lines).toContain('mailboxes 2');
      expect(group.lines).toContain('federated: ***');
      const argv = group.lines.find((l) => l.startsWith('argv: ')) ?? '';
      expect(argv).toContain('-File');
      for (const token of s.minted) expect(argv).not.toContain(token.slice(0, 40));
    }
    expect(s.recorded.text()).toContain('sh sees contoso.onmicrosoft.com');
  }, 90_000);

  it('a timeout ends its session and tree, a crash fails only its script, a disconnect is reconnected', async () => {
    const pids = join(tmpdir(), `exo-sessions-pids-${Date.now()}`);
    const s = await setup(pwsh, {
      'a-hang.ps1': `/bin/sh -c 'sleep 60 & echo $! > ${pids}; wait'\n`,
      'b-crash.ps1': '"going down"\n[Environment]::Exit(4)\n',
      'c-leave.ps1': 'Disconnect-ExchangeOnline -Confirm:$false\n"left"\n',
      'd.ps1': '"connections $(@(Get-ConnectionInformation).Count)"\n',
      'e.ps1': '"connections $(@(Get-ConnectionInformation).Count)"\n',
      'f.ps1': 'exit 3\n',
      'g.ps1': '"connections $(@(Get-ConnectionInformation).Count)"\n',
    });
    const run = await s.run({ maxParallel: 2, timeoutMs: 6000 });
    const rows = Object.fromEntries(run.rows.map((r) => [r.name, [r.result, r.exitCode]]));
    expect(rows).toEqual({
      'a-hang.ps1': ['timeout', null],
      'b-crash.ps1': ['failure', 4],
      'c-leave.ps1': ['success', 0],
      'd.ps1': ['success', 0],
      'e.ps1': ['success', 0],
      'f.ps1': ['failure', 3],
      'g.ps1': ['success', 0],
    });
    expect(run.rows.find((r) => r.name === 'b-crash.ps1')?.error).toMatch(
      /PowerShell session ended while running this script \(exit code 4\)/,
    );
    const text = s.recorded.text();
    expect(text).toContain('going down');
    expect(text.match(/connections 1/g)).toHaveLength(3);
    // Every connect was paid before some script, and shows in its row.
    const connects = run.rows.filter((r) => (r.connectMs ?? 0) > 0).length;
    expect(count(moduleEvents(s), 'connect')).toBe(connects);
    expect(connects).toBeGreaterThanOrEqual(4); // 2 sessions, one after the crash, one reconnect after c-leave
    const child = Number(readFileSync(pids, 'utf8'));
    expect(alive(child)).toBe(false);
    expect(markedProcesses(`EXO_STANDIN_MODULE_LOG=${s.log}`).pids).toEqual([]);
  }, 90_000);

  it('re-mints tokens that would not outlive the next script and reconnects the session with them', async () => {
    // Tokens last the timeout plus the 2-minute margin plus 2 s: after about 2 s a script needs fresh ones.
    const timeoutMs = 8000;
    const files: Record<string, string> = {};
    const show =
      '"exp $(@(Get-ConnectionInformation)[0].TokenExpiryTimeUTC.ToString(\'o\')) tail $($env:EXO_ACCESS_TOKEN.Substring($env:EXO_ACCESS_TOKEN.Length - 6))"\nStart-Sleep -Milliseconds 700\n';
    for (let i = 1; i <= 6; i++) files[`t${i}.ps1`] = show;
    const s = await setup(pwsh, files, { lifetimeSeconds: timeoutMs / 1000 + 120 + 2 });
    const run = await s.run({ maxParallel: 1, timeoutMs });
    expect(run.ok).toBe(true);
    expect(s.minted.length).toBeGreaterThanOrEqual(2);
    const events = moduleEvents(s);
    expect(count(events, 'connect')).toBe(s.minted.length);
    expect(new Set(events.map((e) => e.pid)).size).toBe(1); // one session, reconnected
    // Each script ran connected with the newest token, whose expiry outlived its timeout plus the margin.
    for (const group of s.recorded.groups) {
      const tail = /tail (\S+)/.exec(group.lines.join('\n'))?.[1];
      expect(s.minted.map((t) => t.slice(-6))).toContain(tail);
    }
  }, 90_000);

  it('cancellation ends every session and what the scripts started; fail-fast stops feeding sessions', async () => {
    const s = await setup(pwsh, {
      'a.ps1': '"a"\nStart-Sleep 60\n',
      'b.ps1': '"b"\nStart-Sleep 60\n',
      'c.ps1': '"c"\n',
    });
    const controller = new AbortController();
    const running = s.run({ maxParallel: 2, signal: controller.signal });
    for (let i = 0; i < 200 && !s.recorded.infos.some((m) => m.includes('b.ps1 started')); i++)
      await sleep(50);
    await sleep(1500);
    controller.abort();
    const run = await running;
    expect(run.rows.map((r) => r.result)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(markedProcesses(`EXO_STANDIN_MODULE_LOG=${s.log}`).pids).toEqual([]);

    const f = await setup(pwsh, { 'a.ps1': 'exit 2\n', 'b.ps1': '"b"\n', 'c.ps1': '"c"\n' });
    const fast = await f.run({ maxParallel: 1, failFast: true });
    expect(fast.rows.map((r) => r.result)).toEqual(['failure', 'skipped', 'skipped']);
    expect(count(moduleEvents(f), 'connect')).toBe(1);
    expect(count(moduleEvents(f), 'disconnect')).toBe(1);

    // A connect that hangs is bounded by the timeout too, and ends its session.
    const h = await setup(pwsh, { 'a.ps1': '"a"\n' }, { connectDelayMs: 60_000 });
    const hung = await h.run({ timeoutMs: 4000 });
    expect(hung.rows.map((r) => [r.result, r.error])).toEqual([
      ['timeout', 'exceeded 0.0667 minutes; stopped with its child processes'],
    ]);
    expect(markedProcesses(`EXO_STANDIN_MODULE_LOG=${h.log}`).pids).toEqual([]);
  }, 90_000);
});
