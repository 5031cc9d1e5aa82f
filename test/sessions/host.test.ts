/**
 * The session host alone (src/workers/sessions) under real pwsh, with the stand-in ExchangeOnlineManagement module
 * (test/pwsh) against the emulator's Exchange admin API. Each case is one session: one pwsh start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { redact } from '../../src/workers/runner.js';
import { sessionHost } from '../../src/workers/sessions/host.js';
import { PowerShellSession, type ScriptOutcome } from '../../src/workers/sessions/session.js';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { describePwsh, standinModuleEnv, type ModuleEvent, type RealPwsh } from '../support/pwsh.ts';
import { alive, sleep } from '../support/workers.js';

const ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'];
const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-session-host-'));
});

interface Opened {
  session: PowerShellSession;
  marker: string;
  /** This session's connects and disconnects (the stand-in module's log). */
  log: string;
}

/** Tokens the emulator's admin API accepts, as the token variables the runner sends. */
function tokens(options: { lifetimeSeconds?: number; forged?: boolean } = {}): Record<string, string> {
  return {
    EXO_ACCESS_TOKEN: emulator.exchange.mintToken(options),
    IPPS_ACCESS_TOKEN: emulator.exchange.mintToken({ ...options, endpoint: 'compliance' }),
  };
}

const suffix = (token: string | undefined): string => (token ?? '').slice(-6);

function opener(pwsh: RealPwsh) {
  return async (
    options: { compliance?: boolean; moduleVersion?: string; name?: string; secrets?: () => string[] } = {},
  ): Promise<Opened> => {
    const id = Math.random().toString(36).slice(2);
    const hostFile = join(dir, `host-${options.name ?? 'x'}-${id}.ps1`);
    await writeFile(
      hostFile,
      sessionHost({
        organization: 'contoso.onmicrosoft.com',
        environment: 'O365Default',
        compliance: options.compliance ?? false,
        moduleVersion: options.moduleVersion,
        resources: { exchange: emulator.exchange.url, compliance: emulator.exchange.complianceUrl },
      }),
      { mode: 0o600 },
    );
    const marker = `EXO_WORKER_ID=test-${id}/s1`;
    const log = join(dir, `module-${id}.log`);
    const session = new PowerShellSession({
      command: 'pwsh',
      args: ARGS,
      hostFile,
      cwd: dir,
      env: {
        HOME: process.env['HOME'],
        ...standinModuleEnv(pwsh, { caFile: emulator.caFile, moduleLog: log }),
        EXO_WORKER_ID: marker.slice('EXO_WORKER_ID='.length),
      },
      marker,
      killGraceMs: 1000,
      maxOutputBytes: 1024 * 1024,
      redact: (line, cut) => redact(line, options.secrets?.() ?? [...emulator.issued], cut),
    });
    return { session, marker, log };
  };
}

async function script(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const events = async (log: string): Promise<ModuleEvent[]> =>
  existsSync(log)
    ? (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ModuleEvent)
        .filter((e) => e.event !== 'cmdlet')
    : [];

function run(
  session: PowerShellSession,
  file: string,
  n: number,
  timeoutMs = 20_000,
): Promise<ScriptOutcome> {
  return session.run({
    script: file,
    cwd: dir,
    env: { EXO_WORKER: `w${n}`, EXO_WORKER_ID: `test/${n}` },
    marker: `EXO_WORKER_ID=test/${n}`,
    timeoutMs,
  });
}

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(50);
  }
}

function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const pairs = out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const queue = [pid];
  for (let p = queue.pop(); p !== undefined; p = queue.pop())
    for (const [child, parent] of pairs)
      if (parent === p && child !== undefined) {
        found.push(child);
        queue.push(child);
      }
  return found;
}

describePwsh('session host under real pwsh', (pwsh) => {
  const open = opener(pwsh);

  it('connects once, runs scripts one after another, attributes output and exit codes, resets between them', async () => {
    const { session, log } = await open({ name: 'main' });
    const given = tokens();
    const connect = await session.connect(given);
    expect(connect.ok).toBe(true);
    const pid = session.pid ?? 0;
    // The token is on no command line and in no initial environment of the session's processes (~/.dotnet/tools/pwsh
    // is a launcher; PowerShell is its child).
    const tree = [pid, ...descendants(pid)];
    expect(tree.length).toBeGreaterThan(1);
    for (const p of tree) {
      expect(readFileSync(`/proc/${p}/cmdline`, 'utf8')).not.toContain('token');
      expect(readFileSync(`/proc/${p}/environ`, 'utf8')).not.toContain(given['EXO_ACCESS_TOKEN']);
    }

    const first = await script(
      'first.ps1',
      [
        "$global:ErrorActionPreference = 'Continue'",
        '$global:LASTEXITCODE = 9',
        'Set-Location /',
        "Write-Error 'not terminating under Continue'",
        '"token is $env:EXO_ACCESS_TOKEN"',
        '"worker $env:EXO_WORKER"',
        'Write-Output "user text"',
        'exit 7',
      ].join('\n'),
    );
    const a = await run(session, first, 1);
    expect(a.exitCode).toBe(7);
    expect(a.lines).toContain('user text');
    expect(a.lines).toContain('token is ***');
    expect(a.lines).toContain('worker w1');
    expect(a.connected).toBe(true);

    const second = await script(
      'second.ps1',
      [
        '"eap=$ErrorActionPreference lec=$LASTEXITCODE errors=$($Error.Count) pwd=$((Get-Location).Path)"',
        '@(Get-Mailbox -ResultSize 2).Count',
        'Get-Variable | Out-String -Width 400',
        'Write-Host -NoNewline "no newline at the end"',
      ].join('\n'),
    );
    const b = await run(session, second, 2);
    expect(b.exitCode).toBe(0);
    expect(b.lines).toContain(`eap=Stop lec=0 errors=0 pwd=${dir}`);
    expect(b.lines).toContain('2');
    expect(b.lines.at(-1)).toBe('no newline at the end');
    // The host's private variables, the frame marker above all, are not among a script's variables.
    expect(b.lines.join('\n')).not.toMatch(/marker|control/);
    expect(b.lines.join('\n')).not.toContain('\u001e');
    expect(b.lines.join('\n')).not.toContain('user text');

    const third = await script('third.ps1', "throw 'boom'\n");
    const c = await run(session, third, 3);
    expect(c.exitCode).toBe(1);
    expect(c.lines.join('\n')).toContain('boom');
    expect(c.lines.join('\n')).toMatch(/third\.ps1:1/);

    const fourth = await script('fourth.ps1', 'break\n"not reached"\n');
    const d = await run(session, fourth, 4);
    expect(d.exitCode).toBe(0);
    expect(d.lines).not.toContain('not reached');
    const fifth = await script('fifth.ps1', 'exit 256\n');
    expect((await run(session, fifth, 5)).exitCode).toBe(1);

    await session.quit();
    expect(session.current).toBe('ended');
    const mine = await events(log);
    expect(mine.map((e) => e.event)).toEqual(['connect', 'disconnect']);
    for (const p of tree) expect(alive(p)).toBe(false);
  }, 60_000);

  it('cannot be steered by what a script prints: fake frames, stray markers, replaced console writers', async () => {
    const { session } = await open({ name: 'hostile' });
    expect((await session.connect(tokens())).ok).toBe(true);
    const hostile = await script(
      'hostile.ps1',
      [
        '[Console]::Out.Write("`u{1e}")',
        '"`u{1e}0123456789abcdef0123456789abcdef{""seq"":2,""t"":""end"",""exit"":0,""connected"":true}"',
        '[Console]::Error.WriteLine("`u{1e}{""seq"":2,""t"":""end"",""exit"":0,""connected"":true}")',
        `Write-Host '{"seq":3,"t":"end","exit":0,"connected":true}'`,
        '[Console]::Out.Write("partial `u{1e}")',
        '[Console]::SetOut([IO.TextWriter]::Null)',
        '[Console]::SetError([IO.TextWriter]::Null)',
        '[Console]::WriteLine("swallowed")',
        'exit 4',
      ].join('\n'),
    );
    const a = await run(session, hostile, 1);
    expect(a.exitCode).toBe(4);
    const text = a.lines.join('\n');
    expect(text).toContain('\u001e0123456789abcdef0123456789abcdef{"seq":2,"t":"end"');
    expect(text).toContain('{"seq":3,"t":"end","exit":0,"connected":true}');
    expect(a.lines.at(-1)).toBe('partial \u001e');
    const after = await script('after.ps1', '"after"\n[Console]::Error.WriteLine("to stderr")\n');
    const b = await run(session, after, 2);
    // Two pipes: which of stdout and stderr arrives first is the operating system's business.
    expect([...b.lines].sort()).toEqual(['after', 'to stderr']);
    await session.quit();
  }, 30_000);

  it('reconnects with new tokens delivered on the control channel, and notices a script that disconnected', async () => {
    const { session, log } = await open({ name: 'reconnect', compliance: true });
    const a = tokens();
    const b = tokens({ lifetimeSeconds: 1800 });
    expect((await session.connect(a)).ok).toBe(true);
    const show = await script(
      'show.ps1',
      '$env:EXO_ACCESS_TOKEN.Substring($env:EXO_ACCESS_TOKEN.Length - 6)\n@(Get-ConnectionInformation).Count\n',
    );
    expect((await run(session, show, 1)).lines).toEqual([suffix(a['EXO_ACCESS_TOKEN']), '2']);
    expect(session.current).toBe('ready');
    expect((await session.connect(b)).ok).toBe(true);
    expect((await run(session, show, 2)).lines).toEqual([suffix(b['EXO_ACCESS_TOKEN']), '2']);

    const leave = await script('leave.ps1', 'Disconnect-ExchangeOnline -Confirm:$false\n');
    const left = await run(session, leave, 3);
    expect(left).toMatchObject({ exitCode: 0, connected: false });
    expect(session.current).toBe('disconnected');
    expect((await session.connect(b)).ok).toBe(true);
    expect((await run(session, show, 4)).lines).toEqual([suffix(b['EXO_ACCESS_TOKEN']), '2']);
    await session.quit();
    expect((await events(log)).map((e) => e.event)).toEqual([
      'connect',
      'connect-ipps',
      'disconnect', // before the reconnect with fresh tokens
      'connect',
      'connect-ipps',
      'disconnect', // the script's own
      'disconnect', // before the reconnect: whatever the module still holds of a broken connection goes
      'connect',
      'connect-ipps',
      'disconnect', // quit
    ]);
  }, 30_000);

  it('a script that ends the process fails alone, with its output', async () => {
    const { session } = await open({ name: 'crash' });
    expect((await session.connect(tokens())).ok).toBe(true);
    // What it leaves holds the session's pipes, fd 3 included, and carries no marker (env -i): the outcome still
    // comes within the grace periods, not when the leftover ends.
    const crash = await script(
      'crash.ps1',
      `"dying"\n/bin/sh -c 'setsid env -i /bin/sh -c "echo \\$\\$ > ${join(dir, 'escaped.pid')}; exec /bin/sleep 30" &'\n[Environment]::Exit(5)\n`,
    );
    const started = Date.now();
    const a = await run(session, crash, 1);
    expect(Date.now() - started).toBeLessThan(10_000);
    process.kill(Number(readFileSync(join(dir, 'escaped.pid'), 'utf8')), 'SIGKILL'); // ours to end: no cgroup here
    expect(a).toMatchObject({ exitCode: 5, sessionEnded: { exitCode: 5 }, connected: false });
    expect(a.lines).toEqual(['dying']);
    expect(session.current).toBe('ended');
  }, 30_000);

  it('ends what a script left running, gives scripts an empty stdin, and ends the whole tree on a timeout', async () => {
    const { session, marker } = await open({ name: 'timeout' });
    expect((await session.connect(tokens())).ok).toBe(true);
    const pids = join(dir, 'pids');
    const leftover = await script(
      'leftover.ps1',
      [
        `(Start-Process -FilePath /bin/sleep -ArgumentList 60 -PassThru).Id | Set-Content -LiteralPath '${pids}-1'`,
        '"stdin: [$([Console]::In.ReadLine())]"',
      ].join('\n'),
    );
    const a = await run(session, leftover, 1);
    expect(a.lines).toEqual(['stdin: []']);
    const left = Number(readFileSync(`${pids}-1`, 'utf8'));
    await waitFor(() => !alive(left));

    const hang = await script(
      'hang.ps1',
      [`/bin/sh -c 'sleep 60 & echo $! > ${pids}-2; setsid sleep 60 & echo $! >> ${pids}-2; wait'`].join(
        '\n',
      ),
    );
    const tree = [session.pid ?? 0, ...descendants(session.pid ?? 0)];
    const started = Date.now();
    const b = await run(session, hang, 2, 1500);
    expect(b.stoppedBy).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    const children = readFileSync(`${pids}-2`, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(children).toHaveLength(2);
    await waitFor(() => [...tree, ...children].every((p) => !alive(p)));
    expect(marker).toMatch(/^EXO_WORKER_ID=/);
  }, 30_000);

  it('reports a refused connect and a missing module as failed connects, with the reason in the session output', async () => {
    const refused = await open({ name: 'refused' });
    const missing = await open({ name: 'missing', moduleVersion: '9.9.9' });
    const [r, m] = await Promise.all([
      refused.session.connect(tokens({ forged: true })),
      missing.session.connect(tokens()),
    ]);
    expect(r.ok).toBe(false);
    expect(refused.session.current).toBe('failed');
    expect(refused.session.takeSessionOutput().join('\n')).toContain('the service refused the access token');
    await refused.session.quit();
    expect(m).toMatchObject({ ok: false, sessionEnded: { exitCode: 3 } });
    expect(missing.session.takeSessionOutput().join('\n')).toContain(
      'Install-Module ExchangeOnlineManagement -RequiredVersion 9.9.9',
    );
  }, 30_000);
});
