import { describe, expect, it } from 'vitest';
import { findErrorLocations } from '../../src/workers/annotations.js';

describe('PowerShell error locations', () => {
  it('reads PowerShell 7 ConciseView for a thrown exception, with a wrapped message', () => {
    const lines = [
      'Exception: /home/runner/work/repo/checks/mailbox.ps1:7',
      'Line |',
      '   7 |      throw "Mailbox shared@contoso.com not found"',
      '     |      ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
      '     | Mailbox shared@contoso.com',
      '     | not found',
    ];
    expect(findErrorLocations(lines)).toEqual([
      {
        file: '/home/runner/work/repo/checks/mailbox.ps1',
        line: 7,
        message: 'Mailbox shared@contoso.com not found',
      },
    ]);
  });

  it('ignores the colours PowerShell adds', () => {
    const lines = [
      '\u001b[31;1mGet-Mailbox: \u001b[0m/w/a.ps1:3',
      '\u001b[31;1mLine |\u001b[0m',
      '\u001b[31;1m   3 | \u001b[0m Get-Mailbox x',
      '\u001b[31;1m     | \u001b[31;1m ~~~~~~~~~~~~~\u001b[0m',
      "\u001b[31;1m     | \u001b[31;1mThe operation couldn't be performed.\u001b[0m",
    ];
    expect(findErrorLocations(lines)).toEqual([
      { file: '/w/a.ps1', line: 3, message: "The operation couldn't be performed." },
    ]);
  });

  it('reads NormalView on Windows paths', () => {
    const lines = [
      "Get-Mailbox : The operation couldn't be performed because object 'x' couldn't be found.",
      'At D:\\a\\repo\\repo\\checks\\b.ps1:21 char:5',
      '+     Get-Mailbox x',
    ];
    expect(findErrorLocations(lines)).toEqual([
      {
        file: 'D:\\a\\repo\\repo\\checks\\b.ps1',
        line: 21,
        message: "Get-Mailbox : The operation couldn't be performed because object 'x' couldn't be found.",
      },
    ]);
  });

  it('falls back to the innermost frame of a printed ScriptStackTrace', () => {
    const lines = [
      'Quota check failed',
      'at Test-Quota, /w/lib/quota.ps1: line 4',
      'at <ScriptBlock>, /w/checks/c.ps1: line 9',
    ];
    expect(findErrorLocations(lines)).toEqual([
      { file: '/w/lib/quota.ps1', line: 4, message: 'Quota check failed' },
    ]);
  });

  it('finds nothing in ordinary output, including a path followed by a colon and a number', () => {
    expect(findErrorLocations(['all good', 'wrote /tmp/report.ps1:12', ''])).toEqual([]);
  });
});
