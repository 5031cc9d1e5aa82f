import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../../src/workers/runner.js';
import { sessionHost } from '../../src/workers/sessions/host.js';
import { PowerShellSession, type ScriptOutcome } from '../../src/workers/sessions/session.js';
import { alive, fingerprint, sleep } from '../support/workers.js';
import { fakeModule } from './fake-module.js';

const PWSH_DIR = join(homedir(), '.dotnet', 'tools');
const havePwsh = existsSync(join(PWSH_DIR, 'pwsh'));
const ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'];

let dir: string;
let modules: string;
const tokenA = 'tokenA-0123456789abcdef';
const tokenB = 'tokenB-0123456789abcdef';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-session-host-'));
  modules = await fakeModule(dir);
});

interface Opened {
  session: PowerShellSession;
  marker: string;
  /** This session's connects and disconnects. */
  log: string;
}

async function open(
  options: { compliance?: boolean; moduleVersion?: string; name?: string } = {},
): Promise<Opened> {
  const hostFile = join(dir, `host-${options.name ?? 'x'}-${Math.random().toString(36).slice(2)}.ps1`);
  await writeFile(
    hostFile,
    sessionHost({
      organization: "contoso's.onmicrosoft.com",
      environment: 'O365Default',
      compliance: options.compliance ?? false,
      moduleVersion: options.moduleVersion,
    }),
    { mode: 0o600 },
  );
  const id = Math.random().toString(36).slice(2);
  const marker = `EXO_WORKER_ID=test-${id}/s1`;
  const log = join(dir, `exo-${id}.log`);
  const session = new PowerShellSession({
    command: 'pwsh',
    args: ARGS,
    hostFile,
    cwd: dir,
    env: {
      PATH: [PWSH_DIR, process.env['PATH']].join(delimiter),
      HOME: process.env['HOME'],
      PSModulePath: modules,
      FAKE_EXO_LOG: log,
      [marker.split('=')[0] ?? '']: marker.split('=')[1],
    },
    marker,
    killGraceMs: 1000,
    maxOutputBytes: 1024 * 1024,
    redact: (line, cut) => redact(line, [tokenA, tokenB], cut),
  });
  return { session, marker, log };
}

async function script(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const events = async (log: string): Promise<{ event: string; pid: number; fingerprint?: string }[]> =>
  existsSync(log)
    ? (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { event: string; pid: number; fingerprint?: string })
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

describe.skipIf(!havePwsh)('session host under real pwsh', () => {
  afterAll(() => undefined);

  it('connects once, runs scripts one after another, attributes output and exit codes, resets between them', async () => {
    const { session, log } = await open({ name: 'main' });
    const connect = await session.connect({ EXO_ACCESS_TOKEN: tokenA });
    expect(connect.ok).toBe(true);
    const pid = session.pid ?? 0;
    // The token is on no command line and in no initial environment of the session's processes (~/.dotnet/tools/pwsh
    // is a launcher; PowerShell is its child).
    const tree = [pid, ...descendants(pid)];
    expect(tree.length).toBeGreaterThan(1);
    for (const p of tree) {
      expect(readFileSync(`/proc/${p}/cmdline`, 'utf8')).not.toContain('token');
      expect(readFileSync(`/proc/${p}/environ`, 'utf8')).not.toContain(tokenA);
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
        '(Get-Mailbox).Name',
        'Get-Variable | Out-String -Width 400',
        'Write-Host -NoNewline "no newline at the end"',
      ].join('\n'),
    );
    const b = await run(session, second, 2);
    expect(b.exitCode).toBe(0);
    expect(b.lines).toContain(`eap=Stop lec=0 errors=0 pwd=${dir}`);
    expect(b.lines).toContain('fake');
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
    expect(mine[0]?.fingerprint).toBe(fingerprint(tokenA));
    for (const p of tree) expect(alive(p)).toBe(false);
  }, 60_000);

  it('cannot be steered by what a script prints: fake frames, stray markers, replaced console writers', async () => {
    const { session } = await open({ name: 'hostile' });
    expect((await session.connect({ EXO_ACCESS_TOKEN: tokenA })).ok).toBe(true);
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
    expect(b.lines).toEqual(['after', 'to stderr']);
    await session.quit();
  }, 30_000);

  it('reconnects with new tokens delivered on the control channel, and notices a script that disconnected', async () => {
    const { session, log } = await open({ name: 'reconnect', compliance: true });
    const tokens = (t: string): Record<string, string> => ({
      EXO_ACCESS_TOKEN: t,
      IPPS_ACCESS_TOKEN: `${t}-ipps`,
    });
    expect((await session.connect(tokens(tokenA))).ok).toBe(true);
    const show = await script('show.ps1', '$env:EXO_ACCESS_TOKEN.Substring(0, 6)\n(Get-Mailbox).Name\n');
    expect((await run(session, show, 1)).lines).toEqual(['tokenA', 'fake']);
    expect(session.current).toBe('ready');
    const refreshed = await session.connect(tokens(tokenB));
    expect(refreshed.ok).toBe(true);
    expect((await run(session, show, 2)).lines).toEqual(['tokenB', 'fake']);

    const leave = await script('leave.ps1', 'Disconnect-ExchangeOnline -Confirm:$false\n');
    const left = await run(session, leave, 3);
    expect(left).toMatchObject({ exitCode: 0, connected: false });
    expect(session.current).toBe('disconnected');
    expect((await session.connect(tokens(tokenB))).ok).toBe(true);
    expect((await run(session, show, 4)).lines).toEqual(['tokenB', 'fake']);
    await session.quit();
    const seen = (await events(log)).map((e) => `${e.event}${e.fingerprint ? ` ${e.fingerprint}` : ''}`);
    const [a, b, ia, ib] = [tokenA, tokenB, `${tokenA}-ipps`, `${tokenB}-ipps`].map(fingerprint);
    expect(seen).toEqual([
      `connect ${a}`,
      `connect-ipps ${ia}`,
      'disconnect',
      `connect ${b}`,
      `connect-ipps ${ib}`,
      'disconnect', // the script's own
      'disconnect', // before the reconnect: whatever the module still holds of a broken connection goes
      `connect ${b}`,
      `connect-ipps ${ib}`,
      'disconnect',
    ]);
  }, 30_000);

  it('a script that ends the process fails alone, with its output', async () => {
    const { session } = await open({ name: 'crash' });
    expect((await session.connect({ EXO_ACCESS_TOKEN: tokenA })).ok).toBe(true);
    const crash = await script('crash.ps1', '"dying"\n[Environment]::Exit(5)\n');
    const a = await run(session, crash, 1);
    expect(a).toMatchObject({ exitCode: 5, sessionEnded: { exitCode: 5 }, connected: false });
    expect(a.lines).toEqual(['dying']);
    expect(session.current).toBe('ended');
  }, 30_000);

  it('ends what a script left running, gives scripts an empty stdin, and ends the whole tree on a timeout', async () => {
    const { session, marker } = await open({ name: 'timeout' });
    expect((await session.connect({ EXO_ACCESS_TOKEN: tokenA })).ok).toBe(true);
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
      refused.session.connect({ EXO_ACCESS_TOKEN: 'bad' }),
      missing.session.connect({ EXO_ACCESS_TOKEN: tokenA }),
    ]);
    expect(r.ok).toBe(false);
    expect(refused.session.current).toBe('failed');
    expect(refused.session.takeSessionOutput().join('\n')).toContain('UnAuthorized: the token was refused');
    await refused.session.quit();
    expect(m).toMatchObject({ ok: false, sessionEnded: { exitCode: 3 } });
    expect(missing.session.takeSessionOutput().join('\n')).toContain(
      'Install-Module ExchangeOnlineManagement -RequiredVersion 9.9.9',
    );
  }, 30_000);
});
