/**
 * Real signals to the built action and to the CLI as a real process: whatever signal ends them, every worker and
 * its children end first, and the private directory (wrappers, the inline script) is gone.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { cliEnvironment, emulatorInputs, spawnCli } from '../support/front-ends.ts';
import { alive, sleep, workspace } from '../support/workers.ts';
import { useEmulator } from './emulator-fixture.ts';
import { ROOT, runAction } from './runner.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

/** Ignores SIGTERM, like a worker stuck in a call, and starts a child that does too. */
const STUBBORN = [
  "trap '' TERM",
  '(trap "" TERM; exec sleep 1000) &',
  'echo "$$ $!" >> "$PIDS"',
  'wait',
].join('\n');

type Sending = {
  name: string;
  signals: NodeJS.Signals[];
  diesOf: NodeJS.Signals | null;
  code: number | null;
};

const CASES: Sending[] = [
  // Cancels: the workers get SIGTERM, then SIGKILL after the grace period; the run reports and exits 1.
  { name: 'SIGHUP', signals: ['SIGHUP'], diesOf: null, code: 1 },
  // Ends at once, after killing every worker's tree; exits 131 rather than dumping core (tokens are in memory).
  { name: 'SIGQUIT', signals: ['SIGQUIT'], diesOf: null, code: 131 },
  // The fourth Ctrl-C, during the grace period of the first, ends at once, after killing every worker's tree.
  {
    name: 'a fourth SIGINT',
    signals: ['SIGINT', 'SIGINT', 'SIGINT', 'SIGINT'],
    diesOf: 'SIGINT',
    code: null,
  },
];

/** Waits until `count` workers wrote their pids, then sends `signals` 300 ms apart (the kernel merges closer ones). */
function sendWhenStarted(
  child: ChildProcess,
  pidsFile: string,
  count: number,
  signals: NodeJS.Signals[],
): void {
  const timer = setInterval(() => {
    void (async () => {
      if (!existsSync(pidsFile)) return;
      const lines = (await readFile(pidsFile, 'utf8')).split('\n').filter(Boolean);
      if (lines.length < count) return;
      clearInterval(timer);
      for (const signal of signals) {
        child.kill(signal);
        await sleep(300);
      }
    })();
  }, 50);
  child.on('close', () => clearInterval(timer));
}

async function pidsIn(file: string): Promise<number[]> {
  return (await readFile(file, 'utf8')).split(/\s+/).filter(Boolean).map(Number);
}

describe('signals end every worker', () => {
  it.each(CASES)(
    'the action, on $name',
    async ({ signals, diesOf, code: expectedCode }) => {
      const dir = await workspace({ 'a.sh': STUBBORN, 'b.sh': STUBBORN });
      const pidsFile = join(dir, 'pids');
      const run = await runAction({
        cwd: dir,
        timeoutMs: 60_000,
        inputs: {
          ...emulatorInputs(emulator),
          scripts: '*.sh',
          // The inline script is written to the private directory: it must not outlive the action either.
          run: '# standin: hang',
        },
        env: {
          ...emulator.env,
          PATH: `${join(ROOT, 'test/bin')}:${process.env['PATH'] ?? ''}`,
          PIDS: pidsFile,
          EXO_STANDIN_PUBLIC_KEY_FILE: emulator.accessTokenPublicKeyFile,
          EXO_STANDIN_TENANT_ID: emulator.tenantId,
        },
        onSpawn: (child) => sendWhenStarted(child, pidsFile, 2, signals),
      });
      expect(run.signal, run.stdout).toBe(diesOf);
      expect(run.code).toBe(expectedCode);
      const pids = await pidsIn(pidsFile);
      expect(pids).toHaveLength(4);
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
      expect(run.runnerTempEntries.filter((f) => f.startsWith('exo-login-'))).toEqual([]);
    },
    40_000,
  );

  it.each(CASES)(
    'exo-login run, on $name',
    async ({ signals, diesOf, code: expectedCode }) => {
      const dir = await workspace({ 'a.sh': STUBBORN, 'b.sh': STUBBORN });
      const pidsFile = join(dir, 'pids');
      const temp = await mkdtemp(join(tmpdir(), 'exo-cli-temp-'));
      const { child, ended } = spawnCli(
        ['run', '--working-directory', dir, '*.sh'],
        cliEnvironment(emulator, {
          EXO_FEDERATED_TOKEN: emulator.mintIdToken(),
          RUNNER_TEMP: temp,
          PIDS: pidsFile,
        }),
      );
      sendWhenStarted(child, pidsFile, 2, signals);
      const { code, signal, stdout, stderr } = await ended;
      const output = stdout + stderr;
      expect(signal, output).toBe(diesOf);
      expect(code, output).toBe(expectedCode);
      const pids = await pidsIn(pidsFile);
      expect(pids).toHaveLength(4);
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
      expect(readdirSync(temp).filter((f) => f.startsWith('exo-login-'))).toEqual([]);
    },
    40_000,
  );
});
