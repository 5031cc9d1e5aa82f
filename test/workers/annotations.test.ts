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

  // What real pwsh 7.6.9 prints through the wrapper (its catch block prints the error, then the script frames).
  it('takes the script frame when the header names the wrapper (Write-Error under ErrorActionPreference Stop)', () => {
    const lines = [
      'Write-Error: /tmp/exo-login-x/worker-1.ps1:16',
      'Line |',
      "  16 |    & '/w/werr.ps1'",
      '     |    ~~~~~~~~~~~~~~~~~~~~',
      '     | non-terminating thing',
      'at <ScriptBlock>, /w/werr.ps1: line 2',
    ];
    expect(findErrorLocations(lines)).toEqual([
      { file: '/w/werr.ps1', line: 2, message: 'non-terminating thing' },
    ]);
  });

  it("takes the caller's line for an error raised in a module (.psm1), with or without a located header", () => {
    const message =
      "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody' couldn't be found.";
    const frames = [
      'at Write-ErrorMessage, /tmp/tmpEXO_8965a460bfdb/tmpEXO_8965a460bfdb.psm1: line 3',
      'at Get-Mailbox<Process>, /tmp/tmpEXO_8965a460bfdb/tmpEXO_8965a460bfdb.psm1: line 6',
      'at <ScriptBlock>, /w/u.ps1: line 4',
    ];
    const expected = [{ file: '/w/u.ps1', line: 4, message }];
    expect(findErrorLocations([`Write-ErrorMessage: ${message}`, ...frames])).toEqual(expected);
    const located = [
      'Write-ErrorMessage: /tmp/tmpEXO_8965a460bfdb/tmpEXO_8965a460bfdb.psm1:3',
      'Line |',
      '   3 |  $PSCmdlet.ThrowTerminatingError(…)',
      '     |  ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
      `     | ${message}`,
      ...frames,
    ];
    expect(findErrorLocations(located)).toEqual(expected);
  });

  it('keeps the header when it is a script line the frames confirm (a throw)', () => {
    const lines = [
      'Exception: /w/throw.ps1:3',
      'Line |',
      '   3 |  throw "Mailbox not found"',
      '     |  ~~~~~~~~~~~~~~~~~~~~~~~~~',
      '     | Mailbox not found',
      'at Helper, /w/lib.ps1: line 9',
      'at <ScriptBlock>, /w/throw.ps1: line 3',
    ];
    expect(findErrorLocations(lines)).toEqual([
      { file: '/w/throw.ps1', line: 3, message: 'Mailbox not found' },
    ]);
  });

  it('joins a location-less message PowerShell wrapped at 80 columns, cut mid-word where a word did not fit', () => {
    // As real pwsh 7.6.9 printed it through the wrapper, for an error the stand-in module raised.
    const lines = [
      'Write-ErrorMessage: Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundExceptio',
      "n|The operation couldn't be performed because object 'nobody@contoso.com'",
      "couldn't be found on 'NAMPR01A001DC01.PROD.OUTLOOK.COM'.",
      'at Write-ErrorMessage, /tmp/tmpEXO_d2d16a5f74eb/tmpEXO_d2d16a5f74eb.psm1: line 3',
      'at Get-Mailbox<Process>, /tmp/tmpEXO_d2d16a5f74eb/tmpEXO_d2d16a5f74eb.psm1: line 6',
      'at <ScriptBlock>, /w/checks/not found.ps1: line 2',
    ];
    expect(findErrorLocations(lines)).toEqual([
      {
        file: '/w/checks/not found.ps1',
        line: 2,
        message:
          "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on 'NAMPR01A001DC01.PROD.OUTLOOK.COM'.",
      },
    ]);
  });
});
