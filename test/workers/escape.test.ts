/**
 * Workers that try hardest to outlive the run: a new session, an empty environment (no EXO_WORKER_ID to be found
 * by), reparented to PID 1. Ended where Linux gives exo-login a writable cgroup v2 (RunCgroup); elsewhere exo-login
 * promises only what the process group, the parent chain and the inherited marker reach, and these are skipped.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inCgroup, RunCgroup } from '../../src/workers/cgroup.js';
import { runWorkers } from '../../src/workers/index.js';
import { alive, recordingLogger, sleep, tokensFor, workspace } from '../support/workers.js';

const probe = RunCgroup.create(`exo-login-probe-${process.pid}`);
probe?.end();
const contained = probe !== undefined;

/** Starts a `setsid env -i` sleep that writes its pid to $PIDS, then does `then`. */
const escaping = (then: string): string =>
  [
    // The subshell exits at once: the escapee is reparented (to PID 1 or a subreaper) and has no parent to find.
    '(setsid env -i /bin/sh -c \'echo $$ > "$0"; exec sleep 1000\' "$PIDS" </dev/null >/dev/null 2>&1 &)',
    'while [ ! -s "$PIDS" ]; do sleep 0.01; done',
    then,
  ].join('\n');

async function runOne(
  script: string,
  timeoutMs: number,
): Promise<{ pid: number; result: string | undefined }> {
  const dir = await workspace({ 'w.sh': script });
  const pids = join(dir, 'pids');
  const recorded = recordingLogger();
  const run = await runWorkers({
    workers: [{ name: 'w.sh', script: join(dir, 'w.sh') }],
    maxParallel: 1,
    timeoutMs,
    failFast: false,
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', PIDS: pids },
    tempDir: join(dir, 'tmp'),
    getTokens: () => Promise.resolve(tokensFor(new Date(Date.now() + 3_600_000))),
    logger: recorded.logger,
    killGraceMs: 300,
  });
  for (let i = 0; i < 100 && !existsSync(pids); i++) await sleep(20);
  const pid = Number((await readFile(pids, 'utf8')).trim());
  return { pid, result: run.rows[0]?.result };
}

describe.skipIf(!contained)('in a cgroup, a worker cannot outlive the run', () => {
  it('not by setsid env -i, after it exits 0', async () => {
    const { pid, result } = await runOne(escaping('exit 0'), 60_000);
    expect(result).toBe('success');
    await sleep(50); // SIGKILL is delivered at once; the exit a moment later
    expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it('not by setsid env -i, when it is stopped at its timeout', async () => {
    const { pid, result } = await runOne(escaping('exec sleep 1000'), 1_000);
    expect(result).toBe('timeout');
    await sleep(50);
    expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it('ends with the run: every process in it killed, and the cgroup removed', async () => {
    const run = RunCgroup.create(`exo-login-test-${process.pid}`);
    const dir = run?.worker();
    if (!run || dir === undefined) throw new Error('no cgroup');
    const [command, args] = inCgroup(dir, '/bin/sh', ['-c', 'sleep 1000 & exec sleep 1000']);
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    for (
      let i = 0;
      i < 100 && readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').length < 2;
      i++
    )
      await sleep(10);
    const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    expect(pids).toContain(child.pid);
    expect(pids).toHaveLength(2);
    run.end();
    expect(existsSync(run.dir)).toBe(false);
    await sleep(50);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });
});
