import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { DEFAULTS } from '../emulator/index.ts';
import { useEmulator } from './emulator-fixture.ts';
import { leaks, ROOT, runAction, type ActionRun, type RunOptions } from './runner.ts';
import { emulatorInputs } from '../support/front-ends.ts';
import { alive, maxOverlap, standinEvents, standinIntervals, workspace } from '../support/workers.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

async function workspaceWithLog(files: Record<string, string>): Promise<{ dir: string; log: string }> {
  const dir = await workspace(files);
  return { dir, log: join(dir, 'standin.log') };
}

function runIn(
  ws: { dir: string; log: string },
  inputs: Record<string, string>,
  options: Partial<RunOptions> = {},
): Promise<ActionRun> {
  return runAction({
    cwd: ws.dir,
    timeoutMs: 60_000,
    ...options,
    inputs: {
      ...emulatorInputs(emulator),
      // One process per worker: the JavaScript imitation of pwsh speaks no session protocol. Sessions run under
      // real pwsh in test/sessions and test/pwsh/sessions.test.ts.
      ...((inputs['scripts'] ?? inputs['run']) !== undefined && { 'reuse-sessions': 'false' }),
      ...inputs,
    },
    env: {
      ...emulator.env,
      PATH: `${join(ROOT, 'test/bin')}:${process.env['PATH'] ?? ''}`,
      EXO_STANDIN_LOG: ws.log,
      EXO_STANDIN_PUBLIC_KEY_FILE: emulator.accessTokenPublicKeyFile,
      EXO_STANDIN_TENANT_ID: emulator.tenantId,
      ...options.env,
    },
  });
}

const results = (run: ActionRun) =>
  JSON.parse(run.outputs['results'] ?? '[]') as {
    name: string;
    result: string;
    exitCode: number | null;
    attempts: number;
  }[];

describe('parallel workers', () => {
  it('runs .ps1 workers through pwsh with the token in the environment, never more than max-parallel at once', async () => {
    // a, b and c each wait until two workers have started (a barrier, not sleeps racing each other), so all
    // pass only if two ran at once; the short hold after it would make a third concurrent worker show.
    const ws = await workspaceWithLog({
      'checks/a.ps1': '# standin: barrier 2 lanes\n# standin: sleep 0.2\n# standin: print a done',
      'checks/b.ps1': '# standin: barrier 2 lanes\n# standin: sleep 0.2\n# standin: print b done',
      'checks/c.ps1': '# standin: barrier 2 lanes\n# standin: sleep 0.2\n# standin: print c done',
      'checks/d.ps1': '# standin: print-token',
    });
    const run = await runIn(
      ws,
      { scripts: 'checks/*.ps1', 'max-parallel': '2', resources: 'exchange,compliance' },
      { timeoutMs: 90_000 },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const log = await standinEvents(ws.log);
    expect(log.filter((e) => e.event === 'violation')).toEqual([]);
    expect(log.filter((e) => e.event === 'start').map((e) => e.compliance)).toEqual([true, true, true, true]);
    expect(log.filter((e) => e.event === 'barrier').map((e) => e.reached)).toEqual([true, true, true]);
    // Start and end are taken inside each process, so this never exceeds the real overlap: no flake when busy.
    expect(maxOverlap(standinIntervals(log))).toBeLessThanOrEqual(2);
    expect(results(run).map((r) => [r.name, r.result, r.exitCode, r.attempts])).toEqual([
      ['checks/a.ps1', 'success', 0, 1],
      ['checks/b.ps1', 'success', 0, 1],
      ['checks/c.ps1', 'success', 0, 1],
      ['checks/d.ps1', 'success', 0, 1],
    ]);
    // One worker's output is one group, and a printed token is redacted before the runner even sees it.
    expect(run.stdout).toMatch(
      /::group::✓ checks\/a\.ps1: success \(exit 0\) in [\d.]+ s\n::stop-commands::([\da-f-]{36})\na done\n::\1::\n::endgroup::/,
    );
    expect(run.stdout).toContain('token=***');
    expect(
      leaks(run, [run.outputs['access-token'] ?? '', run.outputs['compliance-access-token'] ?? '']),
    ).toEqual([]);
    expect(run.summary).toContain('checks/c.ps1');
    expect(run.summary).toContain('Attempts');
    // One token, shared; the wrappers are gone.
    expect(emulator.counts()).toEqual({ oidc: 1, token: 2, discovery: 0, other: 0 });
    expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
  }, 60_000);

  it('runs other interpreters and an inline script with the EXO_* variables and without GitHub credentials', async () => {
    const ws = await workspaceWithLog({
      'env.sh':
        'test -n "$EXO_ACCESS_TOKEN" && test -z "$ACTIONS_ID_TOKEN_REQUEST_TOKEN" && test -z "$ACTIONS_ID_TOKEN_REQUEST_URL" && echo "org=$EXO_ORGANIZATION env=$EXO_ENVIRONMENT tenant=$EXO_TENANT_ID worker=$EXO_WORKER"',
      'env.mjs': 'console.log(`mjs sees ${process.env.EXO_ORGANIZATION}`);',
    });
    const run = await runIn(ws, { scripts: 'env.sh\nenv.mjs', run: '# standin: print inline ran' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain(
      `org=contoso.onmicrosoft.com env=O365Default tenant=${emulator.tenantId} worker=env.sh`,
    );
    expect(run.stdout).toContain('mjs sees contoso.onmicrosoft.com');
    expect(run.stdout).toContain('inline ran');
    expect(results(run).map((r) => r.name)).toEqual(['env.mjs', 'env.sh', 'run']);
  });

  it('fails the step after all workers finish, with an annotation at the PowerShell error line', async () => {
    const ws = await workspaceWithLog({
      'a.ps1': '# standin: error "Mailbox not found" line 12\n# standin: exit 1',
      'b.ps1': '# standin: sleep 0.3',
    });
    const run = await runIn(ws, { scripts: '*.ps1' });
    expect(run.code).toBe(1);
    expect(results(run).map((r) => r.result)).toEqual(['failure', 'success']);
    expect(run.stdout).toMatch(
      new RegExp(`^::error file=${ws.dir}/a\\.ps1,line=12::a\\.ps1: Mailbox not found$`, 'm'),
    );
    expect(run.stdout).toMatch(/^::error::1 of 2 workers did not succeed: a\.ps1 \(failure\)$/m);
  });

  it('kills a worker past its timeout together with its children', async () => {
    const ws = await workspaceWithLog({
      'slow.ps1': '# standin: spawn-child-and-hang',
      'ok.ps1': '# standin: print fine',
    });
    const run = await runIn(ws, { scripts: '*.ps1', 'timeout-minutes': '0.02' });
    expect(run.code).toBe(1);
    expect(results(run).map((r) => [r.name, r.result])).toEqual([
      ['ok.ps1', 'success'],
      ['slow.ps1', 'timeout'],
    ]);
    const slow = (await standinEvents(ws.log)).find((e) => e.event === 'start' && e.worker === 'slow.ps1');
    expect(slow?.children.length).toBe(1);
    for (const pid of [slow?.pid ?? 0, ...(slow?.children ?? [])])
      expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it('with fail-fast, cancels running workers and starts no more', async () => {
    const ws = await workspaceWithLog({
      'a.ps1': '# standin: exit 2',
      'b.ps1': '# standin: hang',
      'c.ps1': '# standin: print never',
      'd.ps1': '# standin: print never',
    });
    const run = await runIn(ws, { scripts: '*.ps1', 'fail-fast': 'true', 'max-parallel': '2' });
    expect(run.code).toBe(1);
    expect(results(run).map((r) => r.result)).toEqual(['failure', 'cancelled', 'skipped', 'skipped']);
    expect(run.stdout).not.toContain('never');
  });

  it('reports a missing pwsh as a failed row, not a crash', async () => {
    const ws = await workspaceWithLog({ 'a.ps1': '# standin: print x' });
    const run = await runIn(ws, { scripts: 'a.ps1' }, { env: { PATH: '/usr/bin:/bin' } });
    expect(run.code).toBe(1);
    expect(results(run)[0]?.result).toBe('error');
    expect(run.stdout).toContain('pwsh not found on PATH. Use a runner image with PowerShell 7');
  });

  it('mints fresh tokens before a worker whose timeout outlives the current ones', async () => {
    emulator.accessTokenLifetimeSeconds = 185; // a worker with a one-minute timeout needs 180 s of validity
    const ws = await workspaceWithLog({ 'a.ps1': '# standin: sleep 6', 'b.ps1': '# standin: print second' });
    const run = await runIn(ws, { scripts: '*.ps1', 'timeout-minutes': '1', 'max-parallel': '1' });
    expect(run.code, run.stdout).toBe(0);
    const starts = (await standinEvents(ws.log)).filter((e) => e.event === 'start');
    expect(starts).toHaveLength(2);
    expect(starts[0]?.fingerprint).not.toBe(starts[1]?.fingerprint);
    // The re-mint fetches a fresh GitHub ID token (a new assertion), though the cached one still had minutes left.
    expect(emulator.counts()).toEqual({ oidc: 2, token: 2, discovery: 0, other: 0 });
    // Every credential is masked once: two ID tokens and two access tokens, and the workers got the masked ones.
    expect(new Set(run.masks).size).toBe(4);
    const masked = run.masks.map((m) => createHash('sha256').update(m).digest('hex').slice(0, 16));
    for (const start of starts) expect(masked).toContain(start.fingerprint);
  }, 40_000);

  // A cancelled run sends SIGINT, then SIGTERM after a grace period; either alone must end everything.
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'ends every worker and its children when the run is cancelled (%s)',
    async (signal) => {
      const ws = await workspaceWithLog({
        'a.ps1': '# standin: spawn-child-and-hang',
        'b.ps1': '# standin: spawn-child-and-hang',
        'c.ps1': '# standin: print never',
      });
      const run = await runIn(
        ws,
        { scripts: '*.ps1', 'max-parallel': '2' },
        {
          onSpawn: (child) => {
            const timer = setInterval(() => {
              void standinEvents(ws.log).then((list) => {
                if (list.filter((e) => e.event === 'start').length === 2) {
                  clearInterval(timer);
                  child.kill(signal);
                }
              });
            }, 50);
          },
        },
      );
      // The action handled the signal (it did not die of it) and reports the cancellation.
      expect(run.signal).toBeNull();
      expect(run.code).toBe(1);
      expect(results(run).map((r) => [r.name, r.result])).toEqual([
        ['a.ps1', 'cancelled'],
        ['b.ps1', 'cancelled'],
        ['c.ps1', 'cancelled'],
      ]);
      expect(run.stdout).not.toContain('never');
      const pids = (await standinEvents(ws.log))
        .filter((e) => e.event === 'start')
        .flatMap((e) => [e.pid, ...e.children]);
      expect(pids).toHaveLength(4);
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
      expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
    },
  );

  it('a second signal while stubborn workers are being stopped does not kill the action', async () => {
    // The worker ignores SIGTERM, so stopping it takes the 5 s grace period; an impatient second Ctrl-C lands in it.
    const ws = await workspaceWithLog({
      'stubborn.sh': 'trap \'\' TERM\necho $$ >> "$EXO_STANDIN_LOG.pids"\nsleep 1000\n',
    });
    const pidsFile = `${ws.log}.pids`;
    const run = await runIn(
      ws,
      { scripts: 'stubborn.sh' },
      {
        onSpawn: (child) => {
          const timer = setInterval(() => {
            if (!existsSync(pidsFile)) return;
            clearInterval(timer);
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGINT'), 300);
            setTimeout(() => child.kill('SIGTERM'), 600);
          }, 50);
        },
      },
    );
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    expect(results(run).map((r) => [r.name, r.result])).toEqual([['stubborn.sh', 'cancelled']]);
    const pids = (await readFile(pidsFile, 'utf8')).split(/\s+/).filter(Boolean).map(Number);
    expect(pids).toHaveLength(1);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('runs only its shard, and lists every shard', async () => {
    const files = Object.fromEntries(
      ['s1', 's2', 's3', 's4', 's5'].map((n) => [`${n}.ps1`, `# standin: print ${n}`]),
    );
    const ws = await workspaceWithLog(files);
    const run = await runIn(ws, { scripts: '*.ps1', shard: '2/2' });
    expect(run.code, run.stdout).toBe(0);
    expect(results(run).map((r) => r.name)).toEqual(['s2.ps1', 's4.ps1']);
    expect(JSON.parse(run.outputs['matrix'] ?? '{}')).toEqual({
      include: [
        { shard: '1/2', scripts: ['s1.ps1', 's3.ps1', 's5.ps1'] },
        { shard: '2/2', scripts: ['s2.ps1', 's4.ps1'] },
      ],
    });
  });

  it('a shard with no scripts (2 scripts, shard 3/4) succeeds without running anything', async () => {
    const ws = await workspaceWithLog({ 'a.ps1': '# standin: print a', 'b.ps1': '# standin: print b' });
    const run = await runIn(ws, { scripts: '*.ps1', shard: '3/4' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('Shard 3/4: 0 of 2 scripts.');
    expect(run.stdout).not.toMatch(/^::error/m);
    expect(results(run)).toEqual([]);
    expect(await standinEvents(ws.log)).toEqual([]);
    expect(JSON.parse(run.outputs['matrix'] ?? '{}')).toEqual({
      include: [
        { shard: '1/4', scripts: ['a.ps1'] },
        { shard: '2/4', scripts: ['b.ps1'] },
        { shard: '3/4', scripts: [] },
        { shard: '4/4', scripts: [] },
      ],
    });
    // The token is still minted and published (later steps may use it); the summary has an empty Workers table.
    expect(run.outputs['access-token']).toMatch(/^ey/);
    expect(emulator.counts()).toEqual({ oidc: 1, token: 1, discovery: 0, other: 0 });
    expect(run.summary).toContain('Workers');
    expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
  });

  it('resolves scripts against working-directory (relative to the workspace, or absolute) and runs workers in it', async () => {
    // Decoys at the workspace root: resolving against the workspace instead would pick them up.
    const ws = await workspaceWithLog({
      'checks/a.ps1': '# standin: print decoy',
      'where.sh': 'echo decoy',
      'proj/checks/a.ps1': '# standin: print project a',
      'proj/where.sh': 'echo "cwd=$(pwd -P)"',
    });
    const project = realpathSync(join(ws.dir, 'proj'));
    for (const dir of ['proj', join(ws.dir, 'proj')]) {
      await rm(ws.log, { force: true });
      const run = await runIn(ws, { scripts: 'checks/*.ps1\nwhere.sh', 'working-directory': dir });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(results(run).map((r) => [r.name, r.result])).toEqual([
        ['checks/a.ps1', 'success'],
        ['where.sh', 'success'],
      ]);
      expect(run.stdout).toContain('project a');
      expect(run.stdout).toContain(`cwd=${project}`);
      expect(run.stdout).not.toContain('decoy');
      const starts = (await standinEvents(ws.log)).filter((e) => e.event === 'start');
      expect(starts.map((e) => [e.script, e.cwd && realpathSync(e.cwd)])).toEqual([
        [join(ws.dir, 'proj/checks/a.ps1'), project],
      ]);
    }
  });

  it.each([
    [{ scripts: 'audits/*.ps1' }, /^Input 'scripts': 'audits\/\*\.ps1' matches no file in /],
    [{ scripts: 'checks/*' }, /^Input 'scripts' matched 'checks\/notes\.md', which exo-login cannot run/],
    [
      { scripts: 'checks/a.ps1', 'working-directory': 'nowhere' },
      /^Input 'working-directory' must be an existing directory; .*\/nowhere is not one\.$/,
    ],
    [
      { scripts: 'checks/a.ps1', 'tenant-id': DEFAULTS.tenantId },
      /^Input 'organization' is needed for PowerShell workers/,
    ],
    [
      { run: 'Get-Mailbox', 'tenant-id': DEFAULTS.tenantId },
      /^Input 'organization' is needed for PowerShell workers/,
    ],
  ])('refuses %j before any request, naming the input', async (inputs, pattern) => {
    const ws = await workspaceWithLog({ 'checks/a.ps1': '', 'checks/notes.md': '' });
    const run = await runIn(ws, inputs);
    expect(run.code).toBe(1);
    const errors = [...run.stdout.matchAll(/^::error::(.*)$/gm)].map((m) => m[1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(pattern);
    expect(emulator.counts()).toEqual({ oidc: 0, token: 0, discovery: 0, other: 0 });
    expect(await standinEvents(ws.log)).toEqual([]);
  });

  it("keeps the last 1 MiB of a runaway worker's output, with a note of what it left out", async () => {
    // 30000 lines of 100 bytes (with their newlines), about 2.9 MiB, then the line that matters.
    const ws = await workspaceWithLog({
      'flood.js':
        "let out = '';\nfor (let i = 0; i < 30000; i++) out += String(i).padStart(99, '.') + '\\n';\nprocess.stdout.write(out + 'the end\\n');\n",
    });
    const run = await runIn(ws, { scripts: 'flood.js' });
    expect(run.code, run.stderr).toBe(0);
    const group =
      /^::group::✓ flood\.js: .*\n::stop-commands::(\S+)\n([^]*?)\n::\1::\n::endgroup::$/m
        .exec(run.stdout)?.[2]
        ?.split('\n') ?? [];
    // 10485 of the 100-byte lines and 'the end' fit in 1048576 bytes; one more line would not.
    expect(group[0]).toBe(
      "… 19515 earlier lines (1.9 MiB) not shown: exo-login keeps the last 1 MiB of a worker's output",
    );
    expect(group[1]).toBe(String(19515).padStart(99, '.'));
    expect(group.at(-1)).toBe('the end');
    expect(group).toHaveLength(1 + 10485 + 1);
  });

  it('warns once when worker inputs are set but neither scripts nor run is', async () => {
    const ws = await workspaceWithLog({});
    const warnings = (run: ActionRun) => [...run.stdout.matchAll(/^::warning::(.*)$/gm)].map((m) => m[1]);
    const ignored = await runIn(ws, { 'max-parallel': '5', 'timeout-minutes': '10' });
    expect(ignored.code, ignored.stdout).toBe(0);
    expect(warnings(ignored)).toEqual([
      "Inputs max-parallel, timeout-minutes apply to workers, and neither 'scripts' nor 'run' is set: they are ignored.",
    ]);
    expect(ignored.outputs['access-token']).toMatch(/^ey/);
    // action.yml's defaults, which the runner passes for inputs the workflow leaves out, are not "set".
    const plain = await runIn(ws, {});
    expect(plain.code, plain.stdout).toBe(0);
    expect(warnings(plain).filter((w) => w?.includes('apply to workers'))).toEqual([]);
  });

  it('runs non-PowerShell scripts without an organization', async () => {
    const ws = await workspaceWithLog({ 'a.sh': 'echo "org=${EXO_ORGANIZATION:-none}"\n' });
    const run = await runIn(ws, { scripts: 'a.sh', 'tenant-id': DEFAULTS.tenantId });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('org=none');
  });
});
