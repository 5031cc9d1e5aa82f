import { readdir, readFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { ExoLoginError } from '../../src/core/errors.js';
import type { ExoTokens } from '../../src/core/token.js';
import { DEFAULT_MAX_OUTPUT_BYTES, droppedOutputNote } from '../../src/workers/output.js';
import {
  TOKEN_MARGIN_MS,
  runWorkers,
  workerEnvironment,
  type RunWorkersOptions,
  type WorkerRun,
} from '../../src/workers/index.js';
import {
  BIN,
  alive,
  fingerprint,
  maxOverlap,
  publicKeyFile,
  recordingLogger,
  sleep,
  standinEvents,
  standinIntervals,
  tokensFor,
  workspace,
  type Recorded,
} from '../support/workers.js';

const HOUR = 3_600_000;
const TENANT_ID = '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d';

interface Setup {
  dir: string;
  log: string;
  recorded: Recorded;
  /** The parent environment the runner is given. */
  env: NodeJS.ProcessEnv;
  run: (overrides?: Partial<RunWorkersOptions>) => Promise<WorkerRun>;
}

/** A workspace with the given scripts, run through the stand-in pwsh found via the worker env's PATH only. */
async function setup(
  files: Record<string, string>,
  tokens: ExoTokens = tokensFor(new Date(Date.now() + HOUR)),
) {
  const dir = await workspace(files);
  const log = join(dir, 'standin.log');
  const recorded = recordingLogger();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${BIN}:${process.env['PATH'] ?? ''}`,
    EXO_STANDIN_LOG: log,
    EXO_STANDIN_PUBLIC_KEY_FILE: await publicKeyFile(dir),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-secret',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://example.invalid/token?api-version=2.0',
    ACTIONS_RUNTIME_TOKEN: 'runtime-token-secret',
    PIDS: join(dir, 'pids'),
    RUNNER_TEMP: join(dir, 'tmp'),
    EXO_STANDIN_TENANT_ID: TENANT_ID,
  };
  const s: Setup = {
    dir,
    log,
    recorded,
    env,
    run: (overrides = {}) =>
      runWorkers({
        workers: Object.keys(files)
          .filter((f) => !f.startsWith('lib/'))
          .map((name) => ({ name, script: join(dir, name) })),
        maxParallel: 3,
        timeoutMs: 60_000,
        failFast: false,
        cwd: dir,
        env,
        tempDir: join(dir, 'tmp'),
        getTokens: () => Promise.resolve(tokens),
        logger: recorded.logger,
        killGraceMs: 300,
        // These suites test one process per worker, with the JavaScript imitation of pwsh, which speaks no session
        // protocol; sessions are tested under real pwsh (test/sessions).
        reuseSessions: false,
        ...overrides,
      }),
  };
  return s;
}

/** Pids written by the .sh workers below (`echo $$ $! >> "$PIDS"`). */
async function shellPids(s: Setup): Promise<number[]> {
  const file = join(s.dir, 'pids');
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).split(/\s+/).filter(Boolean).map(Number);
}

const HANG_SH = 'sleep 1000 &\necho $$ $! >> "$PIDS"\nwait\n';

describe('worker environment', () => {
  it('withholds the GitHub credentials and adds the token variables and the worker name', () => {
    const tokens = tokensFor(new Date(Date.now() + HOUR), { compliance: true });
    const env = workerEnvironment(
      {
        PATH: '/bin',
        HOME: '/home/runner',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'a',
        ACTIONS_ID_TOKEN_REQUEST_URL: 'b',
        ACTIONS_RUNTIME_TOKEN: 'c',
        // Left by an earlier step's export-env: stale, and graph was not minted for this run.
        EXO_ACCESS_TOKEN: 'stale',
        GRAPH_ACCESS_TOKEN: 'stale-graph',
        EXO_WORKER: 'outer',
      },
      tokens,
      'checks/a.ps1',
    );
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/home/runner',
      EXO_ACCESS_TOKEN: tokens.tokens.exchange?.token,
      IPPS_ACCESS_TOKEN: tokens.tokens.compliance?.token,
      EXO_ORGANIZATION: 'contoso.onmicrosoft.com',
      EXO_TENANT_ID: tokens.tenantId,
      EXO_ENVIRONMENT: 'O365Default',
      EXO_EXPIRES_ON: tokens.expiresOn.toISOString(),
      EXO_WORKER: 'checks/a.ps1',
    });
  });

  it('is what a script actually sees', async () => {
    const s = await setup({ 'env.sh': 'env > "$PIDS.env"\n' });
    const run = await s.run();
    expect(run.ok).toBe(true);
    const seen = await readFile(join(s.dir, 'pids.env'), 'utf8');
    expect(seen).toMatch(/^EXO_WORKER=env\.sh$/m);
    expect(seen).toMatch(/^EXO_ACCESS_TOKEN=ey/m);
    expect(seen).toMatch(/^EXO_ORGANIZATION=contoso\.onmicrosoft\.com$/m);
    expect(seen).not.toMatch(/ACTIONS_ID_TOKEN_REQUEST|ACTIONS_RUNTIME_TOKEN/);
  });
});

describe('PowerShell workers through the stand-in pwsh', () => {
  it('keeps the contract (arguments, owner-only wrapper, no token in it) and cleans up the wrapper', async () => {
    const s = await setup(
      {
        'a.ps1': '# standin: print hello from a\n',
        "it's here/b.ps1": '# standin: print hello from b\n',
      },
      tokensFor(new Date(Date.now() + HOUR), { compliance: true }),
    );
    const run = await s.run();
    expect(s.recorded.text()).not.toContain('contract violated');
    expect(run.rows.map((r) => [r.name, r.result, r.exitCode, r.attempts])).toEqual([
      ['a.ps1', 'success', 0, 1],
      ["it's here/b.ps1", 'success', 0, 1],
    ]);
    expect(s.recorded.groups.find((g) => g.title.includes('a.ps1'))?.lines).toEqual(['hello from a']);
    expect(s.recorded.infos).toContain('▶ a.ps1 started');
    const starts = (await standinEvents(s.log)).filter((e) => e.event === 'start');
    expect(starts).toHaveLength(2);
    // The stand-in checked the wrapper's place, mode and structure, and both tokens' signature, aud and tid.
    expect(starts.map((e) => e.compliance)).toEqual([true, true]);
    for (const e of starts)
      expect(e.wrapper).toMatch(new RegExp(`^${realpathSync(s.dir)}/tmp/exo-login-\\w+/`));
    expect(await readdir(join(s.dir, 'tmp'))).toEqual([]);
  });

  it("runs a script whose name holds quotes PowerShell knows (' and ’), quoted in the wrapper", async () => {
    const s = await setup({ "Bob’s 'audit'.ps1": '# standin: print quoted ok\n' });
    const run = await s.run();
    expect(run.rows, JSON.stringify(s.recorded.groups)).toMatchObject([{ result: 'success', exitCode: 0 }]);
    expect(s.recorded.groups[0]?.lines).toEqual(['quoted ok']);
  });

  it('runs inline PowerShell from an owner-only temp file, wrapped the same way', async () => {
    const s = await setup({});
    const run = await s.run({ inline: '# standin: print inline ok\n' });
    // Named after the input, not the temp file that is gone by now.
    expect(run.rows).toMatchObject([{ name: 'run', script: 'run', result: 'success', exitCode: 0 }]);
    expect(s.recorded.groups[0]?.lines).toEqual(['inline ok']);
    expect(await readdir(join(s.dir, 'tmp'))).toEqual([]);
  });

  it('passes the exit code through and annotates the PowerShell error location', async () => {
    const s = await setup({
      'check.ps1': '# standin: error "Mailbox not found" line 12\n# standin: exit 3\n',
    });
    const run = await s.run();
    expect(run.ok).toBe(false);
    expect(run.rows[0]).toMatchObject({ result: 'failure', exitCode: 3 });
    expect(s.recorded.errors).toEqual([
      {
        message: 'check.ps1: Mailbox not found',
        location: { file: join(s.dir, 'check.ps1'), startLine: 12 },
      },
    ]);
  });

  it('links annotations only to files in the working directory; others are named in the text', async () => {
    const s = await setup({
      'x.sh':
        'echo "Mailbox not found"\necho "At /opt/exo/helpers.ps1:7 char:3"\n' +
        'echo "Bad input"\necho "At $PWD/lib/util.ps1:3 char:1"\nexit 1\n',
    });
    await s.run();
    expect(s.recorded.errors).toEqual([
      { message: 'x.sh: Mailbox not found (at /opt/exo/helpers.ps1:7)', location: undefined },
      { message: 'x.sh: Bad input', location: { file: join(s.dir, 'lib/util.ps1'), startLine: 3 } },
    ]);
  });

  it('annotates an inline script error without a file (its temp file is gone), naming the line', async () => {
    const s = await setup({});
    const run = await s.run({ inline: '# standin: error "Mailbox not found" line 2\n# standin: exit 1\n' });
    expect(run.rows[0]).toMatchObject({ name: 'run', result: 'failure', exitCode: 1 });
    expect(s.recorded.errors).toEqual([{ message: 'run, line 2: Mailbox not found', location: undefined }]);
  });

  it('redacts the tokens from the output', async () => {
    const tokens = tokensFor(new Date(Date.now() + HOUR), { compliance: true });
    const s = await setup(
      {
        'leak.ps1': '# standin: print-token\n',
        'leak.sh': 'echo "x${EXO_ACCESS_TOKEN}x ${IPPS_ACCESS_TOKEN}"\n',
      },
      tokens,
    );
    await s.run();
    const text = s.recorded.text();
    for (const t of Object.values(tokens.tokens)) expect(text).not.toContain(t.token);
    expect(text).toContain('token=***');
    expect(text).toContain('x***x ***');
  });
});

describe('scheduling', () => {
  it('never runs more than max-parallel workers at once, and uses all of them', async () => {
    // Each worker announces itself and waits until 3 have (a barrier, not a race against sleeps): all pass only if
    // 3 ran at once. A short hold afterwards makes a fourth concurrent worker, were one started, overlap visibly.
    const files: Record<string, string> = {};
    for (let i = 0; i < 8; i++) files[`w${i}.ps1`] = '# standin: barrier 3 lanes\n# standin: sleep 0.2\n';
    const s = await setup(files);
    const run = await s.run({ maxParallel: 3 });
    expect(run.ok, s.recorded.text()).toBe(true);
    const events = await standinEvents(s.log);
    expect(events.filter((e) => e.event === 'barrier').map((e) => e.reached)).toEqual(Array(8).fill(true));
    const intervals = standinIntervals(events);
    expect(intervals).toHaveLength(8);
    // Measured from inside each process, so never more than the real overlap: no flake on a busy machine.
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(3);
  }, 60_000);

  it('fail-fast: no new worker after the first failure, running ones cancelled', async () => {
    const s = await setup({
      'a.sh': 'sleep 0.2; exit 3\n',
      'b.sh': HANG_SH,
      'c.sh': 'exit 0\n',
      'd.sh': 'exit 0\n',
    });
    const run = await s.run({ maxParallel: 2, failFast: true });
    expect(run.ok).toBe(false);
    expect(run.rows.map((r) => [r.name, r.result, r.attempts])).toEqual([
      ['a.sh', 'failure', 1],
      ['b.sh', 'cancelled', 1],
      ['c.sh', 'skipped', 0],
      ['d.sh', 'skipped', 0],
    ]);
    for (const pid of await shellPids(s)) expect(alive(pid)).toBe(false);
  });

  it('without fail-fast, runs everything and fails when any worker failed', async () => {
    const s = await setup({ 'a.sh': 'exit 3\n', 'b.sh': 'exit 0\n', 'c.js': 'process.exit(0)\n' });
    const run = await s.run({ maxParallel: 1 });
    expect(run.ok).toBe(false);
    expect(run.rows.map((r) => r.result)).toEqual(['failure', 'success', 'success']);
  });

  it('buffers stdout and stderr in arrival order and prints them as one group', async () => {
    const s = await setup({ 'o.sh': 'echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three\n' });
    await s.run();
    expect(s.recorded.groups).toHaveLength(1);
    expect(s.recorded.groups[0]?.title).toMatch(/^✓ o\.sh: success \(exit 0\) in \d+\.\d s$/);
    expect(s.recorded.groups[0]?.lines).toEqual(['one', 'two', 'three']);
  });
});

describe('output budget', () => {
  const bytesOf = (lines: readonly string[]): number =>
    lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);

  it('keeps the redacted tail of a runaway worker within the budget, says what it left out, and annotates from it', async () => {
    // About 2 MB: 3000 lines, each with the token, then a PowerShell-shaped error; all on stdout, so in order.
    const script = join('/ci', 'check.ps1');
    const s = await setup({
      'flood.js': `const t = process.env.EXO_ACCESS_TOKEN;
let out = '';
for (let i = 0; i < 3000; i++) out += \`line \${i} token=\${t}\\n\`;
out += 'Write-Error: ${script}:12\\nLine |\\n  12 |  Get-Mailbox x\\n     |  ~~~~~~~~~~~\\n     | Mailbox not found\\n';
process.stdout.write(out);
process.exitCode = 1;
`,
    });
    const run = await s.run({ maxOutputBytes: 4096 });
    expect(run.rows[0]).toMatchObject({ result: 'failure', exitCode: 1 });
    const printed = [
      ...Array.from({ length: 3000 }, (_, i) => `line ${i} token=***`),
      `Write-Error: ${script}:12`,
      'Line |',
      '  12 |  Get-Mailbox x',
      '     |  ~~~~~~~~~~~',
      '     | Mailbox not found',
    ];
    let keep = 0;
    while (bytesOf(printed.slice(-(keep + 1))) <= 4096) keep++;
    const dropped = printed.slice(0, -keep);
    expect(s.recorded.groups).toHaveLength(1);
    expect(s.recorded.groups[0]?.lines).toEqual([
      `… ${dropped.length} earlier lines (${Number((bytesOf(dropped) / 1024).toFixed(1))} KiB) not shown: exo-login keeps the last 4 KiB of a worker's output`,
      ...printed.slice(-keep),
    ]);
    // /ci is outside the working directory: named in the text rather than linked.
    expect(s.recorded.errors).toEqual([
      { message: `flood.js: Mailbox not found (at ${script}:12)`, location: undefined },
    ]);
  });

  it('leaves output that fits untouched; one line more drops the first', async () => {
    // 64 lines of 63 characters and their newlines are exactly 4 KiB.
    const lines = Array.from({ length: 64 }, (_, i) => String(i).padStart(63, '.'));
    const s = await setup({
      'fits.js': `console.log(${JSON.stringify(lines.join('\n'))});\n`,
      'over.js': `console.log(${JSON.stringify([...lines, 'one more'].join('\n'))});\n`,
    });
    const run = await s.run({ maxOutputBytes: 4096 });
    expect(run.ok).toBe(true);
    const group = (name: string) => s.recorded.groups.find((g) => g.title.includes(name))?.lines;
    expect(group('fits.js')).toEqual(lines);
    expect(group('over.js')).toEqual([
      "… 1 earlier line (64 bytes) not shown: exo-login keeps the last 4 KiB of a worker's output",
      ...lines.slice(1),
      'one more',
    ]);
  });

  it('defaults to 1 MiB, and refuses a budget too small to hold an error', async () => {
    expect(DEFAULT_MAX_OUTPUT_BYTES).toBe(1024 * 1024);
    expect(droppedOutputNote({ lines: 12345, bytes: 3.2 * 1024 * 1024 }, DEFAULT_MAX_OUTPUT_BYTES)).toBe(
      "… 12345 earlier lines (3.2 MiB) not shown: exo-login keeps the last 1 MiB of a worker's output",
    );
    expect(droppedOutputNote({ lines: 0, bytes: 5000 }, 4096)).toBe(
      "… 4.9 KiB of earlier output not shown: exo-login keeps the last 4 KiB of a worker's output",
    );
    expect(droppedOutputNote({ lines: 0, bytes: 0 }, 4096)).toBeUndefined();
    const s = await setup({ 'a.sh': 'exit 0\n' });
    for (const maxOutputBytes of [1023, 0, 1.5e3 + 0.5])
      await expect(s.run({ maxOutputBytes })).rejects.toThrow(InputError);
  });
});

describe('faults', () => {
  it('a timeout ends the worker and its children', async () => {
    const s = await setup({ 'hang.ps1': '# standin: spawn-child-and-hang\n', 'hang.sh': HANG_SH });
    const started = Date.now();
    const run = await s.run({ timeoutMs: 1500 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(run.rows.map((r) => r.result)).toEqual(['timeout', 'timeout']);
    expect(run.rows[0]?.error).toMatch(/^exceeded 0\.025 minutes; stopped with its child processes$/);
    const pids = [
      ...(await standinEvents(s.log)).flatMap((e) => [e.pid, ...e.children]),
      ...(await shellPids(s)),
    ];
    expect(pids.length).toBeGreaterThanOrEqual(4);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('a timeout also ends an orphan that left the group and its parent, found by the worker id it inherited', async () => {
    // The subshell exits at once, so the sleep is reparented before the timeout: neither in the group nor a
    // descendant, and it holds stdout open. EXO_WORKER_ID in its environment gives it away.
    const s = await setup({
      'orphan.sh': '(setsid sh -c \'echo $$ >> "$PIDS"; exec sleep 1000\' &)\nsleep 1000\n',
    });
    const run = await s.run({ timeoutMs: 500, killGraceMs: 200 });
    const pids = await shellPids(s);
    try {
      expect(run.rows[0]?.result).toBe('timeout');
      expect(pids).toHaveLength(1);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('does not wait for ever on an orphan it cannot find that still holds the output pipe', async () => {
    // As above, but the orphan also dropped EXO_WORKER_ID: the runner lets go of the pipes a grace period after
    // the hard kill instead of waiting for 'close'.
    const s = await setup({
      'hidden.sh':
        '(env -u EXO_WORKER_ID setsid sh -c \'echo $$ >> "$PIDS"; exec sleep 1000\' &)\nsleep 1000\n',
    });
    const started = Date.now();
    const run = await s.run({ timeoutMs: 500, killGraceMs: 200 });
    const pids = await shellPids(s);
    try {
      expect(run.rows[0]?.result).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a worker that exits 0 while a process it left holds its output succeeds, without waiting for the timeout', async () => {
    const s = await setup({
      'leaves.sh': 'setsid sh -c \'echo $$ >> "$PIDS"; exec sleep 1000\' &\nsleep 0.3\necho done\nexit 0\n',
    });
    const started = Date.now();
    const run = await s.run({ timeoutMs: 10_000 });
    const pids = await shellPids(s);
    try {
      expect(run.rows[0]).toMatchObject({ result: 'success', exitCode: 0 });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(s.recorded.groups[0]?.lines).toEqual(['done']);
      expect(pids).toHaveLength(1);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('ends a daemon a worker left behind when it exited normally, once the run ends', async () => {
    const s = await setup({
      'daemon.sh':
        '(setsid sh -c \'echo $$ >> "$PIDS"; exec sleep 1000\' </dev/null >/dev/null 2>&1 &)\n' +
        'while [ ! -s "$PIDS" ]; do sleep 0.05; done\nexit 0\n',
    });
    const run = await s.run();
    const pids = await shellPids(s);
    try {
      expect(run.rows[0]?.result).toBe('success');
      expect(pids).toHaveLength(1);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('escalates to SIGKILL when a worker ignores SIGTERM', async () => {
    const s = await setup({ 'stubborn.sh': `trap '' TERM\n${HANG_SH}` });
    const run = await s.run({ timeoutMs: 500, killGraceMs: 200 });
    expect(run.rows[0]?.result).toBe('timeout');
    const pids = await shellPids(s);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('a timeout also ends descendants that left the process group (setsid)', async () => {
    // A new session is out of reach of the group signal; they are found by parent id when the worker is stopped.
    const escaping =
      'setsid sh -c \'echo $$ >> "$PIDS"; exec sleep 1000\' </dev/null >/dev/null 2>&1 &\n' +
      'echo $$ >> "$PIDS"\nwait\n';
    const s = await setup({ 'escape.sh': escaping });
    const run = await s.run({ timeoutMs: 1000 });
    expect(run.rows[0]?.result).toBe('timeout');
    const pids = await shellPids(s);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('ends background processes a worker leaves behind when it exits', async () => {
    const s = await setup({ 'bg.sh': 'sleep 1000 &\necho $$ $! >> "$PIDS"\nexit 0\n' });
    const started = Date.now();
    const run = await s.run({ timeoutMs: 10_000 });
    expect(run.rows[0]?.result).toBe('success');
    expect(Date.now() - started).toBeLessThan(5000);
    for (const pid of await shellPids(s)) expect(alive(pid)).toBe(false);
  });

  it('an AbortSignal ends every worker and its children; unstarted ones are cancelled', async () => {
    const s = await setup({ 'a.sh': HANG_SH, 'b.sh': HANG_SH, 'c.sh': HANG_SH });
    const controller = new AbortController();
    const pending = s.run({ maxParallel: 2, signal: controller.signal });
    while ((await shellPids(s)).length < 4) await sleep(20);
    controller.abort();
    const run = await pending;
    expect(run.rows.map((r) => [r.result, r.attempts])).toEqual([
      ['cancelled', 1],
      ['cancelled', 1],
      ['cancelled', 0],
    ]);
    expect(run.rows[0]?.error).toBe('the run was cancelled');
    const pids = await shellPids(s);
    expect(pids).toHaveLength(4);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(await readdir(join(s.dir, 'tmp'))).toEqual([]);
  });

  it('a missing interpreter is an error row, with a hint for pwsh', async () => {
    const s = await setup({ 'a.ps1': '', 'b.sh': 'exit 0\n', 'notes.txt': '' });
    const run = await s.run({ env: { PATH: join(s.dir, 'no-such-bin') } });
    expect(run.rows.map((r) => [r.result, r.exitCode])).toEqual([
      ['error', null],
      ['error', null],
      ['error', null],
    ]);
    expect(run.rows[0]?.error).toMatch(/^pwsh not found on PATH\. Use a runner image with PowerShell 7/);
    expect(run.rows[0]?.attempts).toBe(1);
    expect(run.rows[1]?.error).toBe('bash not found on PATH.');
    expect(run.rows[2]?.error).toMatch(/cannot run notes\.txt/);
  });

  it('PowerShell workers need an organization', async () => {
    const s = await setup(
      { 'a.ps1': '' },
      tokensFor(new Date(Date.now() + HOUR), { organization: undefined }),
    );
    const run = await s.run();
    expect(run.rows[0]).toMatchObject({ result: 'error', attempts: 0 });
    expect(await standinEvents(s.log)).toEqual([]);
  });
});

describe('token freshness', () => {
  it('asks for tokens that outlive the timeout plus the margin, and workers get the re-minted ones', async () => {
    const stale = tokensFor(new Date(Date.now() + 3 * 60_000));
    let current = stale;
    const asked: Date[] = [];
    // Like ExoLoginSession.tokensValidUntil: reuse while valid long enough, else mint.
    const getTokens = (minValidUntil: Date): Promise<ExoTokens> => {
      asked.push(minValidUntil);
      if (current.expiresOn <= minValidUntil) current = tokensFor(new Date(minValidUntil.getTime() + HOUR));
      return Promise.resolve(current);
    };
    const s = await setup({ 'a.ps1': '# standin: print ok\n', 'b.ps1': '# standin: print ok\n' });
    const before = Date.now();
    const run = await s.run({ timeoutMs: 5 * 60_000, getTokens, maxParallel: 1 });
    expect(run.ok).toBe(true);
    expect(asked).toHaveLength(2);
    for (const min of asked)
      expect(min.getTime()).toBeGreaterThanOrEqual(before + 5 * 60_000 + TOKEN_MARGIN_MS);
    const starts = (await standinEvents(s.log)).filter((e) => e.event === 'start');
    const fresh = current.tokens.exchange?.token ?? '';
    expect(current).not.toBe(stale);
    expect(starts.map((e) => e.fingerprint)).toEqual([fingerprint(fresh), fingerprint(fresh)]);
    for (const e of starts) expect((e.exp ?? 0) * 1000).toBeGreaterThan(before + 7 * 60_000);
  });

  it('does not start a worker with tokens that expire before its timeout, nor mint again for the next', async () => {
    const s = await setup({ 'a.ps1': '', 'b.ps1': '' }, tokensFor(new Date(Date.now() + 60_000)));
    let mints = 0;
    const short = tokensFor(new Date(Date.now() + 60_000));
    const run = await s.run({
      timeoutMs: 5 * 60_000,
      maxParallel: 1,
      getTokens: () => {
        mints++;
        return Promise.resolve(short);
      },
    });
    expect(run.rows.map((r) => [r.result, r.attempts])).toEqual([
      ['error', 0],
      ['error', 0],
    ]);
    expect(run.rows[0]?.error).toMatch(/lower timeout-minutes/);
    expect(run.rows[1]?.error).toBe(run.rows[0]?.error);
    expect(mints).toBe(1);
    expect(await standinEvents(s.log)).toEqual([]);
  });

  it("stops asking once the session says fresh tokens cannot outlive the timeout ('token-lifetime')", async () => {
    const s = await setup({ 'a.sh': 'exit 0\n', 'b.sh': 'exit 0\n' });
    let mints = 0;
    const run = await s.run({
      maxParallel: 1,
      getTokens: () => {
        mints++;
        return Promise.reject(
          new ExoLoginError('Entra issues tokens valid until …: lower timeout-minutes', 'token-lifetime'),
        );
      },
    });
    expect(run.rows.map((r) => r.result)).toEqual(['error', 'error']);
    expect(run.rows[1]?.error).toMatch(/lower timeout-minutes/);
    expect(mints).toBe(1);
  });

  it('a failing token provider fails the worker, not the run', async () => {
    const s = await setup({ 'a.sh': 'exit 0\n' });
    const run = await s.run({
      getTokens: () => Promise.reject(new Error('AADSTS700213: no matching federated identity')),
    });
    expect(run.rows[0]).toMatchObject({
      result: 'error',
      error: 'AADSTS700213: no matching federated identity',
    });
  });
});
