import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseInputs } from '../../src/action/inputs.js';
import { Input } from '../../src/action/names.js';
import { sessionSummaryRows, workerSummaryRows } from '../../src/action/report.js';
import { parseCli } from '../../src/cli/args.js';
import { InputError } from '../../src/core/errors.js';
import { rowOf } from '../../src/workers/outcome.js';
import type { WorkerRow } from '../../src/workers/index.js';

const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

function inputs(set: Partial<Record<Input, string>>) {
  const values: Record<string, string> = {
    ...Object.fromEntries(Object.entries(action.inputs).map(([name, i]) => [name, i.default ?? ''])),
    [Input.TenantId]: 'contoso.onmicrosoft.com',
    [Input.ClientId]: '0f3c5a8e-1b2d-4c6e-8f0a-9b1c2d3e4f5a',
    [Input.Scripts]: 'a.ps1',
    ...set,
  };
  return parseInputs((name) => values[name] ?? '');
}

describe('reuse-sessions', () => {
  it('is on by default, off with false, and names itself when it is neither true nor false', () => {
    expect(inputs({}).workers?.reuseSessions).toBe(true);
    expect(inputs({ [Input.ReuseSessions]: 'false' }).workers?.reuseSessions).toBe(false);
    expect(inputs({ [Input.ReuseSessions]: '' }).workers?.reuseSessions).toBe(true);
    expect(() => inputs({ [Input.ReuseSessions]: 'sometimes' })).toThrow(InputError);
    expect(() => inputs({ [Input.ReuseSessions]: 'sometimes' })).toThrow(/reuse-sessions/);
  });

  it('is warned about when set without workers, like the other worker inputs', () => {
    expect(inputs({ [Input.Scripts]: '', [Input.ReuseSessions]: 'false' }).ignoredInputs).toEqual([
      Input.ReuseSessions,
    ]);
  });

  it('has --reuse-sessions and --no-reuse-sessions on exo-login run, which contradict each other', () => {
    expect(parseCli(['run', 'a.ps1'], {}).reuseSessions).toBe(true);
    expect(parseCli(['run', '--reuse-sessions', 'a.ps1'], {}).reuseSessions).toBe(true);
    expect(parseCli(['run', '--no-reuse-sessions', 'a.ps1'], {}).reuseSessions).toBe(false);
    expect(() => parseCli(['run', '--reuse-sessions', '--no-reuse-sessions', 'a.ps1'], {})).toThrow(
      /--reuse-sessions and --no-reuse-sessions contradict/,
    );
    expect(() => parseCli(['token', '--no-reuse-sessions'], {})).toThrow(/no-reuse-sessions/);
  });
});

describe('session reporting', () => {
  const context = {
    name: 'a.ps1',
    script: '/w/a.ps1',
    durationMs: 5000,
    timeoutMs: 60_000,
    cancelledByCaller: false,
  };
  const ended = { kind: 'ended' as const, exitCode: 0, lines: [], dropped: { lines: 0, bytes: 0 } };

  it('leaves the connect out of the duration and reports it apart, with the session', () => {
    expect(rowOf({ ...ended, session: { number: 2, connectMs: 3200 } }, context)).toEqual({
      name: 'a.ps1',
      script: '/w/a.ps1',
      result: 'success',
      exitCode: 0,
      durationMs: 1800,
      attempts: 1,
      session: 2,
      connectMs: 3200,
    });
    expect(rowOf(ended, context)).not.toHaveProperty('session');
  });

  it('fails a script its session died under, whatever the exit code', () => {
    const row = rowOf(
      { ...ended, failure: 'the PowerShell session ended', session: { number: 1, connectMs: 0 } },
      context,
    );
    expect(row).toMatchObject({ result: 'failure', exitCode: 0, error: 'the PowerShell session ended' });
  });

  const row = (name: string, session?: number, connectMs?: number): WorkerRow => ({
    name,
    script: name,
    result: 'success',
    exitCode: 0,
    durationMs: 100,
    attempts: 1,
    ...(session !== undefined && { session, connectMs: connectMs ?? 0 }),
  });

  it('adds a session column and a sessions table only when sessions ran scripts', () => {
    const rows = [
      row('a.ps1', 1, 2500),
      row('b.ps1', 2, 2600),
      row('c.ps1', 1, 0),
      row('d.ps1', 1, 300),
      row('e.sh'),
    ];
    expect(workerSummaryRows(rows)[0]).toEqual([
      'Script',
      'Result',
      'Exit code',
      'Duration',
      'Attempts',
      'Session',
    ]);
    expect(workerSummaryRows(rows)[5]).toEqual(['e.sh', '✅ success', '0', '0.1 s', '1', '']);
    expect(sessionSummaryRows(rows)).toEqual([
      ['Session', 'Scripts', 'Connects', 'Connect time'],
      ['1', '3', '2', '2.8 s'],
      ['2', '1', '1', '2.6 s'],
    ]);
    expect(workerSummaryRows([row('e.sh')])[0]).toHaveLength(5);
    expect(sessionSummaryRows([row('e.sh')])).toEqual([]);
  });

  it('keeps every summary cell inert HTML, a line break included', () => {
    // A blank line ends the summary's one-line <table> HTML block, and what follows renders as Markdown.
    const name = '<img src=x>\n\n![p](https://evil.test/p.png)\r\n# forged';
    const rows = [row(name, 1, 900)];
    const cells = [...workerSummaryRows(rows), ...sessionSummaryRows(rows)].flat();
    for (const cell of cells) expect(cell).not.toMatch(/[<>\r\n]/);
    expect(workerSummaryRows(rows)[1]?.[0]).toBe(
      '&lt;img src=x&gt;&#10;&#10;![p](https://evil.test/p.png)&#13;&#10;# forged',
    );
  });
});
