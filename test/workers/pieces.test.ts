/** The scheduler's pure pieces (src/workers/lanes.ts, token-gate.ts, outcome.ts), without processes. */
import { describe, expect, it } from 'vitest';
import { ExoLoginError } from '../../src/core/errors.js';
import { inLanes } from '../../src/workers/lanes.js';
import { annotationsOf, groupTitle, rowOf } from '../../src/workers/outcome.js';
import { TOKEN_MARGIN_MS, TokenGate } from '../../src/workers/token-gate.js';
import { sleep, tokensFor } from '../support/workers.js';

describe('inLanes', () => {
  it('runs items in order on at most N lanes, each lane taking the next item when its last ended', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await inLanes(
      [30, 10, 10, 10, 10],
      2,
      () => false,
      async (ms, index) => {
        started.push(index);
        most = Math.max(most, ++running);
        await sleep(ms);
        running--;
      },
    );
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('takes nothing once stopped, and never more lanes than items', async () => {
    const seen: number[] = [];
    const lanes = new Set<number>();
    await inLanes(
      [1, 2, 3, 4],
      8,
      () => seen.length >= 2,
      async (item, _, lane) => {
        seen.push(item);
        lanes.add(lane);
        await Promise.resolve();
      },
    );
    expect(seen).toEqual([1, 2]);
    expect([...lanes]).toEqual([0, 1]);
    const none: number[] = [];
    await inLanes(
      [1, 2],
      2,
      () => true,
      async (item) => {
        none.push(item);
        await Promise.resolve();
      },
    );
    expect(none).toEqual([]);
  });
});

describe('TokenGate', () => {
  const now = 1_000_000;
  it('asks for tokens that outlive the timeout plus the margin', async () => {
    const asked: Date[] = [];
    const gate = new TokenGate(
      async (until) => {
        asked.push(until);
        return Promise.resolve(tokensFor(new Date(until.getTime() + 1)));
      },
      () => now,
    );
    expect('tokens' in (await gate.tokensFor(60_000))).toBe(true);
    expect(asked[0]?.getTime()).toBe(now + 60_000 + TOKEN_MARGIN_MS);
  });

  it('once fresh tokens fall short, refuses every later worker without asking again', async () => {
    let asks = 0;
    const gate = new TokenGate(
      () => {
        asks++;
        return Promise.resolve(tokensFor(new Date(now + 1000)));
      },
      () => now,
    );
    const first = await gate.tokensFor(60_000);
    const second = await gate.tokensFor(60_000);
    expect(first).toEqual(second);
    expect('refused' in first && first.refused).toMatch(/lower timeout-minutes/);
    expect(asks).toBe(1);
  });

  it("takes the session's own verdict (token-lifetime) as final too, other failures not", async () => {
    let asks = 0;
    const failing = (code: string) =>
      new TokenGate(() => {
        asks++;
        return Promise.reject(new ExoLoginError('no', code as 'input'));
      });
    const lifetime = failing('token-lifetime');
    await lifetime.tokensFor(1);
    await lifetime.tokensFor(1);
    expect(asks).toBe(1);
    const entra = failing('entra');
    await entra.tokensFor(1);
    await entra.tokensFor(1);
    expect(asks).toBe(3);
  });
});

describe('rows and annotations of outcomes', () => {
  const context = {
    name: 'a.ps1',
    script: '/w/a.ps1',
    durationMs: 1234,
    timeoutMs: 90_000,
    cancelledByCaller: false,
  };
  const ended = { kind: 'ended' as const, exitCode: 0, lines: [], dropped: { lines: 0, bytes: 0 } };

  it('names each way a worker can end', () => {
    expect(rowOf(ended, context)).toMatchObject({ result: 'success', exitCode: 0, attempts: 1 });
    expect(rowOf({ ...ended, exitCode: 2 }, context)).toMatchObject({ result: 'failure', exitCode: 2 });
    expect(rowOf({ ...ended, exitCode: null, stoppedBy: 'timeout' }, context)).toMatchObject({
      result: 'timeout',
      error: 'exceeded 1.5 minutes; stopped with its child processes',
    });
    expect(rowOf({ ...ended, stoppedBy: 'cancel' }, context).error).toBe('stopped by fail-fast');
    expect(rowOf({ ...ended, stoppedBy: 'cancel' }, { ...context, cancelledByCaller: true }).error).toBe(
      'the run was cancelled',
    );
    expect(rowOf({ ...ended, startError: 'pwsh not found on PATH.' }, context)).toMatchObject({
      result: 'error',
      attempts: 1,
    });
    expect(rowOf({ kind: 'refused', error: 'no' }, context)).toMatchObject({ result: 'error', attempts: 0 });
    expect(groupTitle(rowOf({ ...ended, exitCode: 2 }, context))).toBe('✗ a.ps1: failure (exit 2) in 1.2 s');
  });

  it('annotates repository files with their line, others in the text, and a bare failure once', () => {
    const row = rowOf({ ...ended, exitCode: 1 }, context);
    const spec = { name: 'a.ps1', script: '/w/a.ps1' };
    const dirs = { privateDir: '/tmp/exo-login-x', cwd: '/w' };
    expect(annotationsOf(rowOf(ended, context), spec, [], dirs)).toEqual([]);
    expect(annotationsOf(row, spec, [], dirs)).toEqual([{ message: 'a.ps1: exited with code 1' }]);
    const lines = ['Mailbox not found', 'At /w/a.ps1:12 char:5', 'Broken', 'At /opt/module.ps1:3 char:1'];
    expect(annotationsOf(row, spec, lines, dirs)).toEqual([
      { message: 'a.ps1: Mailbox not found', location: { file: '/w/a.ps1', startLine: 12 } },
      { message: 'a.ps1: Broken (at /opt/module.ps1:3)' },
    ]);
  });
});
