/**
 * PowerShell workers under real pwsh 7, through the built dist/ as the runner runs it, with the stand-in
 * ExchangeOnlineManagement module (test/pwsh/modules) against the emulator's Exchange admin API. The JavaScript
 * imitation (test/bin/pwsh) stays in the orchestration suites that need controlled timing.
 *
 * Each pwsh start costs most of a second here, so cases share runs: one run holds many scripts.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { CLOUD_RESOURCES, DEFAULTS, defaultTenant, type Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { errorAnnotation, leaks, runAction, type ActionRun, type RunOptions } from '../integration/runner.ts';
import { describePwsh, standinModuleEnv, type ModuleEvent, type RealPwsh } from '../support/pwsh.ts';
import { adminApi, alive, markedProcesses, spawnCli } from './harness.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

interface Workspace {
  dir: string;
  moduleLog: string;
  /** TMPDIR of its workers (see standinModuleEnv). */
  tempDir: string;
}

const workspaces: string[] = [];
afterAll(async () => {
  for (const dir of workspaces) await rm(dir, { recursive: true, force: true });
});

async function workspace(files: Record<string, string>): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-pwsh-'));
  workspaces.push(dir);
  await mkdir(join(dir, '.tmp'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return { dir, moduleLog: join(dir, '.module.log'), tempDir: join(dir, '.tmp') };
}

function moduleEvents(ws: Workspace): ModuleEvent[] {
  if (!existsSync(ws.moduleLog)) return [];
  return readFileSync(ws.moduleLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ModuleEvent);
}

const results = (run: ActionRun) =>
  JSON.parse(run.outputs['results'] ?? '[]') as { name: string; result: string; exitCode: number | null }[];

const annotations = (run: ActionRun) =>
  [...run.stdout.matchAll(/^::error(?: file=([^,]*),line=(\d+))?::(.*)$/gm)].map((m) => ({
    file: m[1],
    line: m[2] === undefined ? undefined : Number(m[2]),
    message: m[3] ?? '',
  }));

describePwsh('PowerShell workers under real pwsh', (pwsh: RealPwsh) => {
  function runIn(ws: Workspace, inputs: Record<string, string>, options: Partial<RunOptions> = {}) {
    return runAction({
      cwd: ws.dir,
      timeoutMs: 120_000,
      ...options,
      inputs: {
        'tenant-id': emulator.domain,
        'client-id': emulator.clientId,
        'authority-host': emulator.authorityHost,
        ...inputs,
        resources: inputs['resources'] ?? `exchange=${adminApi(emulator).exchange}`,
      },
      env: {
        ...emulator.env,
        ...standinModuleEnv(pwsh, { caFile: emulator.caFile, moduleLog: ws.moduleLog, tempDir: ws.tempDir }),
        ...options.env,
      },
    });
  }

  it('runs scripts with awkward names and reports each exit the way PowerShell ended it', async () => {
    // Every kind of quote PowerShell knows (' ‘ ’ ‚ ‛ and " “ ”), $, a backtick, spaces and non-ASCII.
    const names = {
      ok: "checks/it's ‘fine’ $HOME `n.ps1",
      exit7: 'checks/exit “seven”.ps1',
      exit256: 'checks/exit ‚256‛.ps1',
      thrown: 'checks/throw "Ärger" 日本.ps1',
      writeError: 'checks/write-error ’$x’.ps1',
      native: 'checks/native.ps1',
      module: 'checks/not found.ps1',
      parse: 'checks/parse.ps1',
    };
    const ws = await workspace({
      [names.ok]: [
        '$boxes = @(Get-Mailbox -ResultSize Unlimited)',
        '$info = @(Get-ConnectionInformation)',
        '"mailboxes=$($boxes.Count) connections=$($info.Count) state=$($info[0].State) eap=$ErrorActionPreference"',
        '"org=$((Get-OrganizationConfig).Name) domains=$(@(Get-AcceptedDomain).Count)"',
        '"me=$(Split-Path -Leaf $PSCommandPath)"',
        // Non-terminating when asked: printed, and the script goes on and succeeds.
        'Write-Error "soft failure, carrying on" -ErrorAction Continue',
        '"carried on"',
      ].join('\n'),
      [names.exit7]: '"about to exit"\nexit 7\n',
      [names.exit256]: 'exit 256\n',
      [names.thrown]: '"before"\nthrow "Mailbox shared@contoso.com is not licensed"\n"never"\n',
      [names.writeError]: '"a"\n\nWrite-Error "Quota check failed for 3 mailboxes"\n"never after"\n',
      [names.native]: 'bash -c \'exit 5\'\n"after the native command"\n',
      [names.module]: '$null = Get-Mailbox -ResultSize 1\nGet-Mailbox -Identity "nobody@contoso.com"\n',
      [names.parse]: '"never: a script that does not parse does not start"\n\nif ($true) {\n',
    });
    const run = await runIn(ws, { scripts: 'checks/*.ps1', 'max-parallel': '3', 'module-version': '3.7.2' });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const rows = Object.fromEntries(results(run).map((r) => [r.name, [r.result, r.exitCode]]));
    expect(rows).toEqual({
      [names.ok]: ['success', 0],
      [names.exit7]: ['failure', 7],
      [names.exit256]: ['failure', 1],
      [names.thrown]: ['failure', 1],
      [names.writeError]: ['failure', 1],
      [names.native]: ['failure', 5],
      [names.module]: ['failure', 1],
      [names.parse]: ['failure', 1],
    });
    expect(run.stdout).toMatch(/mailboxes=\d+ connections=1 state=Connected eap=Stop/);
    expect(run.stdout).toContain(`me=${names.ok.slice('checks/'.length)}`);
    expect(run.stdout).toContain('after the native command');
    // Non-terminating, it names no location, as under pwsh -File (not the wrapper's line).
    // eslint-disable-next-line no-control-regex -- pwsh colours errors even into a pipe
    const plain = run.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^Write-Error: soft failure, carrying on\ncarried on$/m);
    expect(run.stdout).not.toMatch(/worker-\d+\.ps1/);
    expect(annotations(run).filter((a) => a.message.includes('soft failure'))).toEqual([]);
    expect(run.stdout).not.toMatch(/never/);
    // Annotations carry the file and line real pwsh printed: a throw, a Write-Error (whose header names the
    // wrapper's call, so the stack trace decides) and a module cmdlet's error (whose header names the module).
    const found = annotations(run);
    expect(found).toContainEqual({
      file: join(ws.dir, names.thrown),
      line: 2,
      message: `${names.thrown}: Mailbox shared@contoso.com is not licensed`,
    });
    expect(found).toContainEqual({
      file: join(ws.dir, names.writeError),
      line: 3,
      message: `${names.writeError}: Quota check failed for 3 mailboxes`,
    });
    expect(found).toContainEqual({
      file: join(ws.dir, names.parse),
      line: 3,
      message: `${names.parse}: Missing closing '}' in statement block or type definition.`,
    });
    const notFound = found.find((a) => a.file === join(ws.dir, names.module));
    expect(notFound?.line).toBe(2);
    expect(notFound?.message).toMatch(
      /^checks\/not found\.ps1: Ex6F9304\|Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException\|The operation couldn't be performed because object 'nobody@contoso\.com' couldn't be found on '/,
    );
    expect(found).toContainEqual({
      file: undefined,
      line: undefined,
      message: `${names.exit7}: exited with code 7`,
    });
    // Each worker connected once with the pinned version, to the admin API named by the resource, and disconnected
    // whatever its script did.
    const events = moduleEvents(ws);
    const connects = events.filter((e) => e.event === 'connect');
    expect(connects).toHaveLength(8);
    expect(new Set(connects.map((e) => e.version))).toEqual(new Set(['3.7.2']));
    expect(new Set(connects.map((e) => e.baseUri))).toEqual(new Set([adminApi(emulator).exchange]));
    expect(connects.every((e) => e.showBanner === false)).toBe(true);
    const disconnects = events.filter((e) => e.event === 'disconnect');
    expect(new Set(disconnects.map((e) => e.pid))).toEqual(new Set(connects.map((e) => e.pid)));
    expect(leaks(run, emulator.issued)).toEqual([]);
    expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
  }, 120_000);

  it('says which Install-Module step is missing: no module at all, or not the pinned version', async () => {
    const ws = await workspace({ 'a.ps1': '"never"' });
    const empty = await mkdtemp(join(tmpdir(), 'exo-no-modules-'));
    // Nothing connects here: the commercial resource will do.
    const none = await runIn(
      ws,
      { scripts: 'a.ps1', resources: 'exchange' },
      { env: { PSModulePath: empty } },
    );
    expect(none.code).toBe(1);
    expect(results(none)[0]).toMatchObject({ result: 'failure', exitCode: 3 });
    expect(none.stdout).toContain(
      'exo-login: the ExchangeOnlineManagement module is not installed. Add a step before this one: Install-Module ExchangeOnlineManagement -Force -Scope CurrentUser',
    );
    const pinned = await runIn(ws, { scripts: 'a.ps1', resources: 'exchange', 'module-version': '3.8.0' });
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toContain(
      'exo-login: the ExchangeOnlineManagement module 3.8.0 is not installed (installed: 3.9.0, 3.7.2). Add a step before this one: Install-Module ExchangeOnlineManagement -RequiredVersion 3.8.0 -Force -Scope CurrentUser',
    );
    expect(errorAnnotation(pinned)).toBe('a.ps1: exited with code 3');
    expect(pinned.stdout).not.toContain('never');
    expect(moduleEvents(ws)).toEqual([]);
  }, 60_000);

  it('connects Security & Compliance with the compliance token, and loads the newest module by default', async () => {
    const api = adminApi(emulator);
    const ws = await workspace({
      'both.ps1':
        '"policies=$(@(Get-DlpCompliancePolicy).Count) sessions=$(@(Get-ConnectionInformation).Count)"',
    });
    const run = await runIn(ws, {
      scripts: 'both.ps1',
      resources: `exchange=${api.exchange},compliance=${api.compliance}`,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('sessions=2');
    const events = moduleEvents(ws);
    expect(events.find((e) => e.event === 'connect')).toMatchObject({
      version: '3.9.0',
      baseUri: api.exchange,
      audience: api.exchange,
    });
    expect(events.find((e) => e.event === 'connect-ipps')).toMatchObject({
      baseUri: api.compliance,
      connectionUri: `${api.compliance}/powershell-liveid/`,
      audience: api.compliance,
    });
    expect(events.find((e) => e.event === 'cmdlet')).toMatchObject({
      cmdlet: 'Get-DlpCompliancePolicy',
      baseUri: api.compliance,
    });
    expect(events.filter((e) => e.event === 'disconnect')).toHaveLength(1);
  }, 60_000);

  it('a connect the service refuses fails the worker with its reason; the script never runs', async () => {
    emulator.exchange.injectFaults([{ kind: 'unauthorized', kindOf: 'moduleFile' }]);
    const ws = await workspace({ 'a.ps1': '"never"' });
    const run = await runIn(ws, { scripts: 'a.ps1' });
    expect(run.code).toBe(1);
    expect(results(run)[0]).toMatchObject({ result: 'failure', exitCode: 1 });
    expect(run.stdout).toMatch(
      /Connect-ExchangeOnline failed: the service refused the access token: HTTP 401/,
    );
    expect(run.stdout).not.toContain('never');
    // Raised inside the module, at the wrapper's connect: no script line to link; the text names the module's.
    const [first, ...rest] = annotations(run);
    expect(first?.file).toBeUndefined();
    expect(first?.message).toMatch(
      /^a\.ps1: Connect-ExchangeOnline failed: the service refused the access token: HTTP 401 \(Bearer .*error="invalid_token".*\(at \/.*\/ExchangeOnlineManagement\.psm1:\d+\)$/,
    );
    expect(rest.map((a) => a.message)).toEqual(['1 of 1 workers did not succeed: a.ps1 (failure)']);
    // Not connected, so nothing to disconnect: the wrapper skips Disconnect-ExchangeOnline.
    expect(moduleEvents(ws).map((e) => e.event)).toEqual([]);
  }, 60_000);

  // Connect-IPPSSession has no environment name: outside the commercial cloud the wrapper names its endpoint and
  // sign-in host. Here the endpoint is the emulator's (an overridden resource), the sign-in host the cloud's.
  it.each([
    ['O365Default', 'https://login.microsoftonline.com/organizations'],
    ['O365USGovGCCHigh', 'https://login.microsoftonline.us/common'],
    ['O365USGovDoD', 'https://login.microsoftonline.us/common'],
    ['O365China', 'https://login.chinacloudapi.cn/common'],
  ])(
    "%s: Connect-IPPSSession gets the compliance token and the cloud's endpoints",
    async (cloud, authority) => {
      const api = adminApi(emulator);
      const resources = CLOUD_RESOURCES[cloud] ?? [];
      const tenant = defaultTenant();
      emulator.tenants = [
        {
          ...tenant,
          cloud,
          apps: tenant.apps.map((app) => ({
            ...app,
            appRoles: Object.fromEntries(resources.slice(0, 2).map((r) => [r, ['Exchange.ManageAsApp']])),
          })),
        },
      ];
      const ws = await workspace({ 'scc.ps1': '"labels=$(@(Get-Label).Count)"' });
      const run = await runIn(ws, {
        scripts: 'scc.ps1',
        environment: cloud,
        audience: DEFAULTS.audience,
        resources: `exchange=${api.exchange},compliance=${api.compliance}`,
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/labels=\d+/);
      const events = moduleEvents(ws);
      expect(events.find((e) => e.event === 'connect')).toMatchObject({
        environment: cloud,
        connectionUri: `${api.exchange}/powershell-liveid/`,
        audience: api.exchange,
      });
      expect(events.find((e) => e.event === 'connect-ipps')).toMatchObject({
        connectionUri: `${api.compliance}/powershell-liveid/`,
        authorizationUri: authority,
        audience: api.compliance,
      });
      expect(events.find((e) => e.event === 'cmdlet')).toMatchObject({
        cmdlet: 'Get-Label',
        baseUri: api.compliance,
      });
    },
    60_000,
  );

  it('never puts a token on any pwsh command line or in the wrapper, and removes the wrapper', async () => {
    const ws = await workspace({
      'wait.ps1': [
        '"$PID" | Set-Content -LiteralPath (Join-Path $PWD ready)',
        'while (-not (Test-Path -LiteralPath (Join-Path $PWD go))) { Start-Sleep -Milliseconds 50 }',
        '"released"',
      ].join('\n'),
    });
    let seen: { pids: number[]; argv: string[]; wrappers: string[] } | undefined;
    const run = await runIn(
      ws,
      {
        scripts: 'wait.ps1',
        resources: `exchange=${adminApi(emulator).exchange},compliance=${adminApi(emulator).compliance}`,
      },
      {
        onSpawn: () => {
          const timer = setInterval(() => {
            if (!existsSync(join(ws.dir, 'ready'))) return;
            clearInterval(timer);
            seen = markedProcesses(`EXO_STANDIN_MODULE_LOG=${ws.moduleLog}`);
            void writeFile(join(ws.dir, 'go'), '');
          }, 50);
        },
      },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('released');
    // The dotnet-tool shim and the dotnet process it starts: both seen, neither carries a token.
    expect(seen?.argv.some((a) => /^pwsh -NoLogo -NoProfile -NonInteractive -File /.test(a))).toBe(true);
    expect(seen?.argv.some((a) => /\/pwsh\.dll -NoLogo -NoProfile -NonInteractive -File /.test(a))).toBe(
      true,
    );
    const tokens = [run.outputs['access-token'] ?? '', run.outputs['compliance-access-token'] ?? ''];
    for (const token of tokens) {
      expect(token).toMatch(/^ey/);
      const signature = token.split('.')[2] ?? '';
      for (const text of [...(seen?.argv ?? []), ...(seen?.wrappers ?? [])]) {
        expect(text.includes(token) || text.includes(signature)).toBe(false);
      }
    }
    expect(seen?.wrappers.length).toBeGreaterThanOrEqual(1);
    expect(seen?.wrappers[0]).toContain('$env:EXO_ACCESS_TOKEN');
    expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
  }, 60_000);

  const hang = [
    '$child = Start-Process -FilePath sleep -ArgumentList 300 -PassThru',
    '"$PID $($child.Id)" | Set-Content -LiteralPath (Join-Path $PWD "pids-$(Split-Path -Leaf $PSCommandPath)")',
    'Start-Sleep -Seconds 300',
  ].join('\n');

  function startedPids(ws: Workspace): number[] {
    return readdirSync(ws.dir)
      .filter((f) => f.startsWith('pids-'))
      .flatMap((f) => readFileSync(join(ws.dir, f), 'utf8').trim().split(/\s+/).map(Number));
  }

  it('a timeout ends real pwsh, the dotnet process under it and what the script started', async () => {
    const ws = await workspace({ 'slow.ps1': hang });
    let tree: number[] = [];
    const run = await runIn(
      ws,
      { scripts: 'slow.ps1', 'timeout-minutes': '0.15' },
      {
        onSpawn: () => {
          const timer = setInterval(() => {
            if (startedPids(ws).length < 2) return;
            clearInterval(timer);
            tree = markedProcesses(`EXO_STANDIN_MODULE_LOG=${ws.moduleLog}`).pids;
          }, 100);
        },
      },
    );
    expect(run.code).toBe(1);
    expect(results(run)[0]).toMatchObject({ result: 'timeout' });
    const pids = [...new Set([...startedPids(ws), ...tree])];
    expect(pids.length).toBeGreaterThanOrEqual(3);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
  }, 60_000);

  it('cancelling the run (SIGINT) ends every real pwsh and what the scripts started', async () => {
    const ws = await workspace({ 'a.ps1': hang, 'b.ps1': hang });
    let tree: number[] = [];
    const run = await runIn(
      ws,
      { scripts: '*.ps1', 'max-parallel': '2' },
      {
        onSpawn: (child) => {
          const timer = setInterval(() => {
            if (startedPids(ws).length < 4) return;
            clearInterval(timer);
            tree = markedProcesses(`EXO_STANDIN_MODULE_LOG=${ws.moduleLog}`).pids;
            child.kill('SIGINT');
          }, 100);
        },
      },
    );
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    expect(results(run).map((r) => r.result)).toEqual(['cancelled', 'cancelled']);
    const pids = [...new Set([...startedPids(ws), ...tree])];
    expect(pids.length).toBeGreaterThanOrEqual(6);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
  }, 60_000);

  it('exo-login run: the CLI runs real pwsh workers the same way', async () => {
    const ws = await workspace({
      'good.ps1': '"domains=$(@(Get-AcceptedDomain).Count)"',
      'bad.ps1': '\nthrow "drift found"',
    });
    const api = adminApi(emulator);
    const cli = await spawnCli(['run', '--resource', `exchange=${api.exchange}`, 'good.ps1', 'bad.ps1'], {
      cwd: ws.dir,
      env: {
        NODE_EXTRA_CA_CERTS: emulator.caFile,
        AZURE_TENANT_ID: emulator.domain,
        AZURE_CLIENT_ID: emulator.clientId,
        AZURE_AUTHORITY_HOST: `https://${emulator.authorityHost}/`,
        EXO_FEDERATED_TOKEN: emulator.mintIdToken(),
        ...standinModuleEnv(pwsh, { caFile: emulator.caFile, moduleLog: ws.moduleLog, tempDir: ws.tempDir }),
      },
    });
    expect(cli.code, cli.stdout + cli.stderr).toBe(1);
    const all = cli.stdout + cli.stderr;
    expect(all).toMatch(/domains=\d+/);
    expect(all).toContain('drift found');
    expect(all).toMatch(/bad\.ps1.*line 2|bad\.ps1:2/);
    const events = moduleEvents(ws);
    expect(events.filter((e) => e.event === 'connect')).toHaveLength(2);
    expect(events.filter((e) => e.event === 'disconnect')).toHaveLength(2);
    for (const token of emulator.issued) expect(all).not.toContain(token);
  }, 60_000);
});
