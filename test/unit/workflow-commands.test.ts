import { describe, expect, it } from 'vitest';
import {
  breakLeadingCommand,
  escapeHtml,
  escapeLegacyCommand,
  formatCommand,
  inertJson,
  logText,
  parseCommand,
} from '../../src/core/workflow-commands.js';
import { runnerGroup } from '../../src/front/runner-group.js';
import { replayRunner } from '../support/runner-view.js';

const FORGERIES = [
  '::warning title=x::forged',
  '  ::error::forged',
  'x\n::warning::forged',
  'x\r::warning::forged',
  'x\r\n##[group]forged',
  'see ##[error]forged',
  '##[endgroup]',
  '::stop-commands::T',
  '::set-env name=A::b',
  '::ADD-MASK::e',
];

describe('outside text in a log line', () => {
  it.each(FORGERIES)('%j is one inert line', (text) => {
    const line = `▶ ${logText(text)} started`;
    expect(line).not.toMatch(/[\r\n]/);
    const view = replayRunner(
      `::group::title\n${logText(text)}\n▶ ${logText(text)}\n::endgroup::\n::error::after\n`,
    );
    expect(view.annotations).toEqual([{ kind: 'error', properties: {}, message: 'after' }]);
    expect(view.groups).toEqual(['title']);
    expect(view.masks).toEqual([]);
    expect(view.stoppedAtEnd).toBe(false);
  });

  it('still reads as what it says', () => {
    expect(logText('a\nb\tc')).toBe('a\\nb\tc');
    expect(logText('##[x]').replace(/\u200b/g, '')).toBe('##[x]');
  });

  it('in annotations, properties and messages are escaped as the toolkit does', () => {
    const command = formatCommand('error', { file: 'a,b:c.ps1', line: 3 }, '100% done\nnext');
    expect(command).toBe('::error file=a%2Cb%3Ac.ps1,line=3::100%25 done%0Anext');
    expect(parseCommand(command)).toEqual({
      name: 'error',
      properties: { file: 'a,b:c.ps1', line: '3' },
      data: '100% done\nnext',
    });
  });

  it('JSON keeps its value and loses its commands', () => {
    const value = { subject: 'repo:o/r:ref:refs/heads/##[error]x' };
    const json = inertJson(value);
    expect(JSON.parse(json)).toEqual(value);
    expect(replayRunner(`${json}\n`).annotations).toEqual([]);
  });

  it('escapes every legacy command form, wherever it is in the line', () => {
    const text = 'a ##[error]b ##[WARNING x=y]c';
    expect(escapeLegacyCommand(text)).toBe('a ##\\u005berror]b ##\\u005bWARNING x=y]c');
    expect(replayRunner(`${escapeLegacyCommand(text)}\n`).annotations).toEqual([]);
  });

  it('breaks a leading :: with a visible space, for table cells', () => {
    expect(breakLeadingCommand('::error::x')).toBe(': :error::x');
    expect(breakLeadingCommand('a ::error::x')).toBe('a ::error::x');
    expect(replayRunner(`${breakLeadingCommand('::error::x')}\n`).annotations).toEqual([]);
  });

  it('HTML for the summary', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&`)).toBe(
      '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;',
    );
  });
});

describe("a worker's group, replayed through the runner's rules", () => {
  const replay = (
    lines: string[],
    after = ['::add-mask::re-minted-token-1234', 'uses re-minted-token-1234', '::error::the action speaks'],
  ) => replayRunner(`${[...runnerGroup('✗ w.sh: failure', lines, 'w.sh'), ...after].join('\n')}\n`);

  it('a ::stop-commands:: never resumed stops nothing after the group', () => {
    const view = replay(['::stop-commands::T', 'still printing']);
    expect(view.stoppedAtEnd).toBe(false);
    expect(view.masks).toContain('re-minted-token-1234');
    expect(view.log.join('\n')).not.toContain('re-minted-token-1234');
    expect(view.annotations.map((a) => a.message)).toEqual(['the action speaks']);
  });

  it('groups, echo, environment, outputs, state and PATH from the worker are text', () => {
    const view = replay([
      '##[group]inner',
      '::group::inner2',
      '::endgroup::',
      '##[endgroup]',
      '::echo::on',
      '::set-env name=A::b',
      '::set-output name=a::b',
      '::save-state name=a::b',
      '::add-path::/evil',
      '::add-matcher::m.json',
    ]);
    expect(view.groups).toEqual(['✗ w.sh: failure']);
    expect(view.maxDepth).toBe(1);
    expect(view.openAtEnd).toBe(0);
    expect(view.steering).toEqual([]);
  });

  it("a worker's masks, annotations and debug messages work, named after it", () => {
    const view = replay(
      [
        'secret-of-the-worker is printed first',
        '::add-mask::secret-of-the-worker',
        '  ::error file=checks/a.ps1,line=4,title=Drift::mailbox x drifted',
        'text ##[warning]v1 form',
        'x\r::notice::after a carriage return',
        '::debug::quiet',
      ],
      [],
    );
    expect(view.masks).toEqual(['secret-of-the-worker']);
    expect(view.log.join('\n')).not.toContain('secret-of-the-worker');
    expect(view.annotations).toEqual([
      {
        kind: 'error',
        properties: { file: 'checks/a.ps1', line: '4', title: 'Drift' },
        message: 'w.sh: mailbox x drifted',
      },
      { kind: 'warning', properties: {}, message: 'w.sh: v1 form' },
      { kind: 'notice', properties: {}, message: 'w.sh: after a carriage return' },
    ]);
  });

  it('a line cut off mid-command (a worker killed while printing) leaves nothing open', () => {
    const view = replay(['::stop-commands::'], []);
    expect(view.stoppedAtEnd).toBe(false);
    expect(view.openAtEnd).toBe(0);
  });
});
