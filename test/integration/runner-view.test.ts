/**
 * The built action's stdout replayed through the runner's rules (test/support/runner-view.ts): whatever workers
 * print, and whatever names their files have, the runner must end each worker's group in the state it was in
 * before it, see only the commands the action means, and mask every token.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { cliEnvironment, emulatorInputs, spawnCli } from '../support/front-ends.ts';
import { replayRunner, type RunnerView } from '../support/runner-view.ts';
import { workspace } from '../support/workers.ts';
import { useEmulator } from './emulator-fixture.ts';
import { runAction, type ActionRun } from './runner.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

async function run(files: Record<string, string>, inputs: Record<string, string>): Promise<ActionRun> {
  const dir = await workspace(files);
  return runAction({
    cwd: dir,
    timeoutMs: 60_000,
    inputs: { ...emulatorInputs(emulator), ...inputs },
    env: emulator.env,
  });
}

/** Every token and ID token the emulator issued, and none of them in the log the runner keeps. */
function visibleSecrets(view: RunnerView): string[] {
  const log = view.log.join('\n');
  return emulator.issued.filter((secret) => log.includes(secret)).map((s) => `…${s.slice(-8)}`);
}

const messages = (view: RunnerView) => view.annotations.map((a) => a.message);

describe('worker output cannot steer the runner', () => {
  it('a ::stop-commands:: never resumed leaves later masks and annotations working', async () => {
    // a.sh stops commands, outlives the first tokens' margin, and fails; b.sh then needs re-minted tokens,
    // whose ::add-mask:: lines the runner must still read, or the tokens would stand in the log in full.
    emulator.accessTokenLifetimeSeconds = 185;
    const result = await run(
      {
        'a.sh': 'echo "::stop-commands::never-resumed"\nsleep 6\nexit 3',
        'b.sh': 'echo "b token $EXO_ACCESS_TOKEN"',
      },
      { scripts: '*.sh', 'timeout-minutes': '1', 'max-parallel': '1' },
    );
    expect(result.code, result.stdout).toBe(1);
    expect(emulator.counts().token).toBe(2);
    const view = replayRunner(result.stdout);
    expect(view.stoppedAtEnd).toBe(false);
    expect(visibleSecrets(view)).toEqual([]);
    expect(messages(view)).toEqual([
      'a.sh: exited with code 3',
      '1 of 2 workers did not succeed: a.sh (failure)',
    ]);
  }, 60_000);

  it('a worker killed mid-line, in the middle of ::stop-commands::, leaves nothing stopped or open', async () => {
    const result = await run(
      { 'slow.sh': 'printf "::stop-commands::cut"\nexec sleep 60' },
      { scripts: 'slow.sh', 'timeout-minutes': '0.02' },
    );
    const view = replayRunner(result.stdout);
    expect(view.stoppedAtEnd).toBe(false);
    expect(view.openAtEnd).toBe(0);
    expect(messages(view)[0]).toMatch(/^slow\.sh: exceeded 0\.02 minutes/);
  });

  it('groups, echo, environment, outputs, state and PATH from a worker are text; its masks and annotations work', async () => {
    const result = await run(
      {
        'w.sh': [
          "echo '##[group]opened by the worker'",
          "echo '::group::another'",
          "echo '::endgroup::'",
          "echo '##[endgroup]'",
          "echo '::echo::on'",
          "echo '::set-env name=NODE_OPTIONS::--require /tmp/evil.js'",
          "echo '::add-path::/tmp/evil'",
          "echo '::set-output name=access-token::forged'",
          "echo '::save-state name=x::y'",
          "echo '::add-mask::worker-secret-0123'",
          "echo 'the worker prints worker-secret-0123'",
          "echo '  ::error file=w.sh,line=4,title=Drift::mailbox drifted'",
          "printf 'progress\\r::warning::after a carriage return\\n'",
          'exit 0',
        ].join('\n'),
      },
      { scripts: 'w.sh' },
    );
    expect(result.code, result.stdout).toBe(0);
    const view = replayRunner(result.stdout);
    expect(view.groups).toHaveLength(2);
    expect(view.groups[1]).toMatch(/^✓ w\.sh: success \(exit 0\) in [\d.]+ s$/);
    expect(view.maxDepth).toBe(1);
    expect(view.openAtEnd).toBe(0);
    expect(view.steering).toEqual([]);
    expect(view.masks).toContain('worker-secret-0123');
    expect(view.log.join('\n')).not.toContain('worker-secret-0123');
    expect(view.annotations).toEqual([
      {
        kind: 'error',
        properties: { file: 'w.sh', line: '4', title: 'Drift' },
        message: 'w.sh: mailbox drifted',
      },
      { kind: 'warning', properties: {}, message: 'w.sh: after a carriage return' },
    ]);
    expect(result.outputs['access-token']).not.toBe('forged');
    expect(visibleSecrets(view)).toEqual([]);
  });
});

describe('outside text cannot forge commands', () => {
  it('file names in the log, the annotations and the summary', async () => {
    const result = await run(
      {
        'x\n::warning title=x::forged.sh': 'exit 1',
        '<img src=x onerror=alert(1)>.sh': 'exit 1',
        '##[error]v1.sh': 'exit 1',
      },
      { scripts: '*.sh' },
    );
    expect(result.code).toBe(1);
    const view = replayRunner(result.stdout);
    expect(view.annotations.filter((a) => a.kind !== 'error')).toEqual([]);
    expect(view.annotations).toHaveLength(4); // one per worker, one for the step
    expect(view.groups).toHaveLength(4);
    expect(view.openAtEnd).toBe(0);
    for (const line of view.log) expect(line).not.toMatch(/^\s*(::|##\[)warning/);
    expect(result.summary).toContain('&lt;img src=x onerror=alert(1)&gt;.sh');
    expect(result.summary).not.toContain('<img');
  });

  it('token claims printed in the log', async () => {
    const app = emulator.tenants[0]?.apps[0];
    if (!app) throw new Error('no app');
    app.appRoles['https://outlook.office365.com'] = [
      'Exchange.ManageAsApp',
      'x\n::warning::forged',
      '##[error]v1',
    ];
    const result = await run({}, {});
    expect(result.code, result.stdout).toBe(0);
    const view = replayRunner(result.stdout);
    expect(view.annotations).toEqual([]);
    expect(view.log.join('\n')).toContain('roles Exchange.ManageAsApp, x\\n::warning::forged');
    expect(view.groups).toEqual(['Exchange Online token']);
    const commandLike = view.log.filter((l) => /^\s*(::|##\[)/.test(l) && !/^##\[(end)?group\]/.test(l));
    expect(commandLike).toEqual([]);
  });

  it('a server answer quoting a presented subject, in the failure the action and the CLI print', async () => {
    // Entra quotes the subject it could not match; a subject holds branch names, which may hold anything.
    const subject = 'repo:octo-org/exo-audit:ref:refs/heads/x\n##[group]forged\n::warning::forged';
    emulator.idToken = { ...emulator.idToken, subject };
    const action = await run({}, {});
    expect(action.code).toBe(1);
    const view = replayRunner(action.stdout);
    expect(view.annotations.map((a) => a.kind)).toEqual(['error']);
    expect(view.annotations[0]?.message).toContain('700213');
    expect(view.groups).toEqual(['Exchange Online token']);
    const cli = await spawnCli(
      ['token'],
      cliEnvironment(emulator, { EXO_FEDERATED_TOKEN: emulator.mintIdToken(), GITHUB_ACTIONS: 'true' }),
    ).ended;
    expect(cli.code).toBe(1);
    const stderr = replayRunner(cli.stderr);
    expect(cli.stderr).toContain('700213');
    expect(stderr.annotations).toEqual([]);
    expect(stderr.groups).toEqual([]);
  });
});
