/** `exo-login run` as a real process: what workers get of the federated token, and what they may print. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { cliEnvironment, spawnCli } from '../support/front-ends.ts';
import { replayRunner } from '../support/runner-view.ts';
import { workspace } from '../support/workers.ts';
import { useEmulator } from './emulator-fixture.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

const cli = (args: string[], env: Record<string, string>) =>
  spawnCli(args, cliEnvironment(emulator, env)).ended;

/** Prints what the worker can see of the federated token: its variables, and a copy it found somewhere. */
const PROBE = [
  'echo "EXO_FEDERATED_TOKEN=${EXO_FEDERATED_TOKEN:-withheld}"',
  'echo "MY_TOKEN=${MY_TOKEN:-withheld}"',
  'echo "copy=$(cat "$COPY")"',
].join('\n');

describe('exo-login run and the federated token', () => {
  it.each([
    ['--source env', ['--source', 'env'], 'EXO_FEDERATED_TOKEN'],
    ['--token-env MY_TOKEN', ['--token-env', 'MY_TOKEN'], 'MY_TOKEN'],
  ])('%s: withheld from workers, and redacted from what they print', async (_, flags, variable) => {
    const dir = await workspace({ 'probe.sh': PROBE });
    const federated = emulator.mintIdToken();
    const copy = join(dir, 'copy');
    await writeFile(copy, federated);
    const run = await cli(['run', ...flags, '--working-directory', dir, 'probe.sh'], {
      // EXO_FEDERATED_TOKEN holds a federated token in both cases; whether or not it is the source, it is withheld.
      EXO_FEDERATED_TOKEN: variable === 'EXO_FEDERATED_TOKEN' ? federated : emulator.mintIdToken(),
      ...(variable === 'MY_TOKEN' && { MY_TOKEN: federated }),
      COPY: copy,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('EXO_FEDERATED_TOKEN=withheld');
    expect(run.stdout).toContain('MY_TOKEN=withheld');
    expect(run.stdout).toContain('copy=***');
    expect(run.stdout + run.stderr).not.toContain(federated);
    expect(emulator.counts().token).toBe(1);
  });
});

describe('exo-login run inside GitHub Actions', () => {
  it("keeps a worker's output from steering the runner", async () => {
    const dir = await workspace({
      'a.sh':
        'echo "::stop-commands::never-resumed"\necho "::add-mask::worker-secret-0123"\necho worker-secret-0123\nexit 1',
    });
    const run = await cli(['run', '--working-directory', dir, 'a.sh'], {
      EXO_FEDERATED_TOKEN: emulator.mintIdToken(),
      GITHUB_ACTIONS: 'true',
    });
    expect(run.code, run.stderr).toBe(1);
    const stdout = replayRunner(run.stdout);
    expect(stdout.stoppedAtEnd).toBe(false);
    expect(stdout.masks).toEqual(['worker-secret-0123']);
    expect(stdout.log.join('\n')).not.toContain('worker-secret-0123');
    // stderr, which the runner reads too: the masks of every token, and no stopped state.
    const stderr = replayRunner(run.stderr);
    expect(stderr.stoppedAtEnd).toBe(false);
    expect(stderr.masks.length).toBeGreaterThanOrEqual(2);
  });
});
