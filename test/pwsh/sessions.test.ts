/**
 * reuse-sessions (the default) through the built dist/ as the runner runs it, under real pwsh with the stand-in
 * module against the emulator: connect counts (Exchange and Security & Compliance), the results output and the
 * job summary, fresh tokens before a script that would outlive the current ones, no token on any command line.
 * The CLI's --no-reuse-sessions and the same scripts one process each, for the counts to compare.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { leaks, runAction, type ActionRun } from '../integration/runner.ts';
import { describePwsh, standinModuleEnv, type ModuleEvent, type RealPwsh } from '../support/pwsh.ts';
import { spawnCli } from './harness.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

async function workspace(files: Record<string, string>): Promise<{ dir: string; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-pwsh-sessions-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return { dir, log: join(dir, '.module.log') };
}

function events(log: string): ModuleEvent[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ModuleEvent)
    .filter((e) => e.event !== 'cmdlet');
}

const count = (log: string, event: ModuleEvent['event']): number =>
  events(log).filter((e) => e.event === event).length;

interface Row {
  name: string;
  result: string;
  exitCode: number | null;
  durationMs: number;
  session?: number;
  connectMs?: number;
}
const results = (run: ActionRun): Row[] => JSON.parse(run.outputs['results'] ?? '[]') as Row[];

/** Prints its name, its connections, and the command lines of its session's pwsh (the shim and PowerShell). */
const SCRIPT = [
  '"I am $(Split-Path -Leaf $PSCommandPath): $(@(Get-Mailbox -ResultSize 1).Count) mailbox, $(@(Get-ConnectionInformation).Count) connections"',
  '$parent = (Get-Content -Raw "/proc/$PID/stat").Split(")")[1].Trim().Split(" ")[1]',
  '"argv: " + (Get-Content -Raw "/proc/$PID/cmdline") + " | " + (Get-Content -Raw "/proc/$parent/cmdline")',
  '$exp = ([DateTimeOffset](Get-ConnectionInformation | Where-Object { -not $_.IsEopSession }).TokenExpiryTimeUTC).ToUnixTimeMilliseconds()',
  '"token: started=$([DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()) expires=$exp"',
  'Start-Sleep -Milliseconds 1000',
].join('\n');

describePwsh('reuse-sessions through dist/ under real pwsh', (pwsh: RealPwsh) => {
  function env(log: string): Record<string, string> {
    return { ...emulator.env, ...standinModuleEnv(pwsh, { caFile: emulator.caFile, moduleLog: log }) };
  }

  it('connects each of max-parallel sessions once (IPPS too), reports sessions, and re-mints tokens in time', async () => {
    const files: Record<string, string> = {};
    for (let i = 1; i <= 6; i++) files[`checks/s${i}.ps1`] = SCRIPT;
    const ws = await workspace(files);
    // Tokens last the timeout (15 s) plus the 2-minute margin plus 3 s: later scripts need fresh ones.
    emulator.accessTokenLifetimeSeconds = 15 + 120 + 3;
    const run = await runAction({
      cwd: ws.dir,
      timeoutMs: 120_000,
      inputs: {
        'tenant-id': emulator.domain,
        'client-id': emulator.clientId,
        'authority-host': emulator.authorityHost,
        resources: emulator.exchange.resources,
        scripts: 'checks/*.ps1',
        'max-parallel': '2',
        'timeout-minutes': '0.25',
      },
      env: env(ws.log),
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const rows = results(run);
    expect(rows.map((r) => [r.name, r.result])).toEqual(Object.keys(files).map((name) => [name, 'success']));
    expect(new Set(rows.map((r) => r.session))).toEqual(new Set([1, 2]));
    const paid = rows.filter((r) => (r.connectMs ?? 0) > 0);
    // Two sessions, each connected once (Exchange and IPPS), plus a reconnect per fresh mint.
    expect(count(ws.log, 'connect')).toBe(paid.length);
    expect(count(ws.log, 'connect-ipps')).toBe(paid.length);
    expect(paid.length).toBeGreaterThanOrEqual(3);
    expect(new Set(events(ws.log).map((e) => e.pid)).size).toBe(2);
    // Every script ran connected with a token that outlived its timeout plus the margin, less the connect before
    // it (at most half the margin; exp is in whole seconds).
    const started = run.stdout.split('\n');
    const windows = [...run.stdout.matchAll(/^token: started=(\d+) expires=(\d+)$/gm)];
    expect(windows).toHaveLength(6);
    for (const [, from, until] of windows)
      expect(Number(until) - Number(from)).toBeGreaterThanOrEqual(15_000 + 60_000 - 1000);
    expect(
      started.filter((l) => l.startsWith('I am s')).every((l) => l.endsWith('1 mailbox, 2 connections')),
    ).toBe(true);
    for (const line of started.filter((l) => l.startsWith('argv: '))) {
      expect(line).toContain('-File');
      for (const token of emulator.issued) expect(line).not.toContain(token.slice(0, 40));
    }
    expect(leaks(run, emulator.issued)).toEqual([]);
    // The summary names each script's session and each session's connects.
    expect(run.summary).toContain('PowerShell sessions');
    expect(run.summary).toMatch(/<th>Session<\/th>/);
    expect(run.summary).toMatch(/<th>Connects<\/th>/);
  }, 150_000);

  it('exo-login run --no-reuse-sessions runs one pwsh and one connect per script; the default reuses', async () => {
    const ws = await workspace({ 'a.ps1': SCRIPT, 'b.ps1': SCRIPT, 'c.ps1': SCRIPT });
    const cliEnv = {
      ...env(ws.log),
      AZURE_TENANT_ID: emulator.domain,
      AZURE_CLIENT_ID: emulator.clientId,
      AZURE_AUTHORITY_HOST: emulator.authorityHost,
    };
    const args = ['run', '--resource', `exchange=${emulator.exchange.url}`, '--max-parallel', '1', '*.ps1'];
    const off = await spawnCli(['run', '--no-reuse-sessions', ...args.slice(1)], {
      cwd: ws.dir,
      env: cliEnv,
    });
    expect(off.code, off.stderr).toBe(0);
    expect(count(ws.log, 'connect')).toBe(3);
    expect(off.stderr).not.toContain('[session');
    const on = await spawnCli(args, { cwd: ws.dir, env: cliEnv });
    expect(on.code, on.stderr).toBe(0);
    expect(count(ws.log, 'connect')).toBe(4);
    expect(on.stderr).toMatch(/^success +a\.ps1 \(exit 0\) [\d.]+ s \[session 1, connected in [\d.]+ s\]$/m);
    expect(on.stderr).toMatch(/^success +c\.ps1 \(exit 0\) [\d.]+ s \[session 1\]$/m);
  }, 150_000);
});
