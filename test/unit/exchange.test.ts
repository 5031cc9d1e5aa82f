/** The admin API client's pure parts: encoding, error reading, redirect rule, CLI parameter splitting. */
import { describe, expect, it } from 'vitest';
import { parsePowerShellParameters, splitInvokeArgv, formatTable } from '../../src/cli/invoke-command.ts';
import { encodeParameters, stripAnnotations } from '../../src/exchange/encode.ts';
import { cleanText, parseServerError, reasonFor } from '../../src/exchange/errors.ts';
import { apiOrigin, judgeLocation } from '../../src/exchange/routing.ts';
import { resolveSettings } from '../../src/core/token.ts';

describe('encodeParameters', () => {
  it('tags hashtables recursively, flags arrays of them, and rewrites $true in -Filter', () => {
    expect(
      encodeParameters({
        Filter: 'AuditEnabled -eq $true -and HiddenFromAddressListsEnabled -eq $FALSE',
        Map: new Map([['a', 1]]),
        Big: 10n,
        Skip: undefined,
        List: [{ a: { b: 2 } }, 'x'],
        When: new Date('2026-01-02T03:04:05.678Z'),
        Url: new URL('https://contoso.com/x'),
      }),
    ).toEqual({
      Filter: "AuditEnabled -eq 'True' -and HiddenFromAddressListsEnabled -eq 'False'",
      Map: { '@odata.type': '#Exchange.GenericHashTable', a: 1 },
      Big: '10',
      List: [
        {
          '@odata.type': '#Exchange.GenericHashTable',
          a: { '@odata.type': '#Exchange.GenericHashTable', b: 2 },
        },
        'x',
      ],
      'List@odata.type': '#Collection(Exchange.GenericHashTable)',
      When: '2026-01-02T03:04:05',
      Url: 'https://contoso.com/x',
    });
  });

  it('names the parameter it cannot send', () => {
    expect(() => encodeParameters({ A: () => 1 })).toThrow(/Option 'parameters\.A' cannot be sent/);
    expect(() => encodeParameters({ A: NaN })).toThrow(/finite number/);
    expect(() => encodeParameters({ A: new Date('x') })).toThrow(/invalid Date/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => encodeParameters({ A: cycle })).toThrow(/nests deeper/);
  });

  it('strips annotation keys at every depth', () => {
    expect(
      stripAnnotations({ 'a@odata.type': 'x', a: [{ 'b@data.type': 'y', b: 1 }], '@odata.id': 'z' }),
    ).toEqual({
      a: [{ b: 1 }],
    });
  });
});

describe('parseServerError', () => {
  const body = (error: unknown): string => JSON.stringify({ error });
  it('prefers innererror.internalexception, then details[0], then error.message, then the raw body', () => {
    expect(
      parseServerError(
        body({
          message: 'Invalid Operation',
          details: [{ message: 'not this' }],
          innererror: { internalexception: { message: 'the real one', type: 'X.YException' } },
        }),
      ),
    ).toEqual({ message: 'the real one', exceptionType: 'X.YException' });
    expect(
      parseServerError(
        body({ message: 'Error executing cmdlet', details: [{ message: '{"Message":"m","TypeName":"T"}' }] }),
      ),
    ).toEqual({ message: 'm', exceptionType: 'T' });
    expect(
      parseServerError(body({ message: 'x', details: [{ message: 'Ex1|A.B.NotFoundException|gone\nnow' }] })),
    ).toEqual({
      message: 'gone now',
      exceptionType: 'A.B.NotFoundException',
    });
    expect(parseServerError(body({ message: 'plain' }))).toEqual({
      message: 'plain',
      exceptionType: undefined,
    });
    expect(parseServerError('\0\0\0').message).toBe('(a body of 3 NUL bytes)');
    expect(parseServerError('<html><title>Bad Gateway</title></html>').message).toBe(
      '(an HTML page: Bad Gateway)',
    );
    expect(parseServerError('').message).toBe('(empty body)');
  });

  it('classifies answers', () => {
    const of = (status: number, text = '') => reasonFor(status, parseServerError(text), text);
    expect(of(429)).toBe('throttled');
    expect(of(400, 'You have reached the maximum number of concurrent requests per tenant.')).toBe(
      'throttled',
    );
    expect(of(404)).toBe('not-found');
    expect(
      of(400, body({ details: [{ message: '{"Message":"The object x already exists.","TypeName":"A"}' }] })),
    ).toBe('already-exists');
    expect(of(401)).toBe('unauthorized');
    expect(of(403)).toBe('forbidden');
    expect(of(503)).toBe('server');
    expect(of(400)).toBe('bad-request');
  });

  it('keeps the exception type on one line too, whichever field it comes from', () => {
    const evil = 'X.Y\n::error title=forged::pwned\u001b[2J';
    const types = [
      parseServerError(body({ innererror: { internalexception: { message: 'm', type: evil } } })),
      parseServerError(body({ details: [{ message: JSON.stringify({ Message: 'm', TypeName: evil }) }] })),
      parseServerError(body({ message: 'm', innererror: { type: evil } })),
    ].map((e) => e.exceptionType);
    for (const type of types) expect(type).toBe('X.Y ::error title=forged::pwned [2J');
  });

  it('keeps server text on one line', () => {
    expect(cleanText('a\r\n::error::b\u001b[0m\u2028c')).toBe('a ::error::b [0m c');
    expect(cleanText('x'.repeat(10), 4)).toBe('xxxx…');
    expect(cleanText('see\n##[error]forged')).toBe('see ##\\u005berror]forged');
  });
});

describe('routing', () => {
  it('sends the token only to hosts of the endpoint domain', () => {
    const here = 'https://outlook.office365.com/adminapi/beta/t/InvokeCommand';
    const ok = judgeLocation(
      'https://nam13b.outlook.office365.com:446/adminapi/beta/t/InvokeCommand',
      here,
      'outlook.office365.com',
    );
    expect(ok.follow && ok.url.href).toBe(
      'https://nam13b.outlook.office365.com/adminapi/beta/t/InvokeCommand',
    );
    expect(judgeLocation('/other', here, 'outlook.office365.com')).toMatchObject({ follow: true });
    expect(judgeLocation('https://evil.example/x', here, 'outlook.office365.com')).toMatchObject({
      follow: false,
    });
    expect(
      judgeLocation('https://outlook.office365.com.evil.example/', here, 'outlook.office365.com'),
    ).toMatchObject({
      follow: false,
    });
    expect(
      judgeLocation('http://nam13b.outlook.office365.com/', here, 'outlook.office365.com'),
    ).toMatchObject({
      follow: false,
    });
    const cc = judgeLocation(
      'https://nam12b.admin.protection.outlook.com/adminapi/beta/t/InvokeCommand',
      'https://ps.compliance.protection.outlook.com/',
      'ps.compliance.protection.outlook.com',
    );
    expect(cc.follow && cc.url.host).toBe('nam12b.ps.compliance.protection.outlook.com');
  });

  it('takes the API host from the cloud table, the l5 host for DoD compliance, or the override', () => {
    const settings = (environment: string, resources: string) =>
      resolveSettings({
        tenantId: 'contoso.onmicrosoft.com',
        clientId: '5f0d7c9a-3b2e-4d6f-8a1c-9e7b4d2f6a0c',
        environment,
        resources,
      });
    expect(apiOrigin(settings('O365Default', 'exchange'), 'exchange')).toBe('https://outlook.office365.com');
    expect(apiOrigin(settings('O365USGovDoD', 'compliance'), 'compliance')).toBe(
      'https://l5.ps.compliance.protection.office365.us',
    );
    expect(apiOrigin(settings('O365USGovGCCHigh', 'exchange=https://outlook.office365.us'), 'exchange')).toBe(
      'https://outlook.office365.us',
    );
    expect(apiOrigin(settings('O365Default', 'exchange'), 'compliance')).toBeUndefined();
  });
});

describe('exo-login invoke arguments', () => {
  it('sets PowerShell-style parameters apart from options', () => {
    expect(
      splitInvokeArgv([
        '--tenant-id',
        't',
        'invoke',
        'Get-Mailbox',
        '-ResultSize',
        'Unlimited',
        '-Archive',
        '--format',
        'json',
        '-Confirm:$false',
      ]),
    ).toEqual({
      argv: ['--tenant-id', 't', 'invoke', 'Get-Mailbox', '--format', 'json'],
      powershell: ['-ResultSize', 'Unlimited', '-Archive', '\0switch', '-Confirm:$false'],
    });
    expect(splitInvokeArgv(['token', '-h'])).toEqual({ argv: ['token', '-h'], powershell: [] });
    expect(
      parsePowerShellParameters([
        '-ResultSize',
        'Unlimited',
        '-Archive',
        '\0switch',
        '-Confirm:$false',
        '-X',
        '$NULL',
      ]),
    ).toEqual({
      ResultSize: 'Unlimited',
      Archive: true,
      Confirm: false,
      X: null,
    });
    expect(() => parsePowerShellParameters(['-A-b', 'x'])).toThrow(/neither/);
  });

  it('formats a table with the selected columns', () => {
    expect(formatTable([{ A: 'x', B: ['1', 2], C: { d: 1 } }], [])).toBe(
      'A B    C\n- ---- -------\nx 1, 2 {"d":1}\n',
    );
    expect(formatTable([], ['A'])).toBe('');
    expect(formatTable([{ A: '::error::owned' }], ['A'])).toBe('A\n---------------\n: :error::owned\n');
  });
});
