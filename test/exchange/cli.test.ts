/** `exo-login invoke` as a real process (bin/exo-login.js → dist/cli) against the emulated admin API. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { ROOT } from '../integration/runner.ts';
import { cliEnvironment } from '../support/exchange.ts';
import { NO_CLI_TIMEOUT, spawnCli } from '../support/front-ends.ts';

const current = useEmulator();
let emulator: Emulator;
const outputs: string[] = [];
beforeEach(() => {
  emulator = current();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { code, stdout, stderr } = await spawnCli(args, cliEnvironment(emulator, env), NO_CLI_TIMEOUT).ended;
  // Every token the emulator ever issued, checked against every output at the end of each test.
  outputs.push(stdout, stderr);
  return { code, stdout, stderr };
}

const exchange = (): string[] => ['--resource', `exchange=${emulator.exchange.url}`];

function expectNoTokenPrinted(): void {
  expect(emulator.issued.length).toBeGreaterThan(0);
  for (const token of emulator.issued) for (const text of outputs) expect(text).not.toContain(token);
  outputs.length = 0;
}

describe('exo-login invoke', () => {
  it('prints one JSON array off a terminal, with exactly one token request and one InvokeCommand', async () => {
    const run = await cli(['invoke', 'Get-Mailbox', '-ResultSize', 'Unlimited', ...exchange()]);
    expect(run.code, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r['Alias'])).toEqual(['user0001', 'user0002', 'user0003', 'user0004', 'user0005']);
    expect(Object.keys(rows[0] ?? {}).some((k) => k.includes('@'))).toBe(false);
    expect(run.stderr).toBe('');
    expect(emulator.counts().token).toBe(1);
    expect(emulator.exchange.invocations()).toHaveLength(1);
    expect(emulator.exchange.invocations()[0]?.parameters).toEqual({ ResultSize: 'Unlimited' });
    expectNoTokenPrinted();
  });

  it('reads PowerShell-style parameters and merges --parameters JSON (hashtables tagged)', async () => {
    const run = await cli([
      ...exchange(),
      'invoke',
      'Set-Mailbox',
      '-Identity',
      'user0001',
      '-HiddenFromAddressListsEnabled',
      '$true',
      '-Confirm:$false',
      '-ForwardingSmtpAddress',
      '$null',
      '--parameters',
      '{"EmailAddresses":{"Add":"smtp:extra@contoso.onmicrosoft.com"}}',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('[]\n');
    expect(emulator.exchange.invocations()[0]?.parameters).toEqual({
      Identity: 'user0001',
      HiddenFromAddressListsEnabled: true,
      Confirm: false,
      ForwardingSmtpAddress: null,
      EmailAddresses: {
        '@odata.type': '#Exchange.GenericHashTable',
        Add: 'smtp:extra@contoso.onmicrosoft.com',
      },
    });
    const row = emulator.exchange.organization().nouns('Mailbox').get('user0001');
    expect(row?.['EmailAddresses']).toContain('smtp:extra@contoso.onmicrosoft.com');
    const bare = await cli(['invoke', 'Get-Mailbox', '-Archive', '--format', 'ndjson', ...exchange()]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(emulator.exchange.invocations()[1]?.parameters).toEqual({ Archive: true });
    expect(bare.stdout.trim().split('\n')).toHaveLength(5);
    expectNoTokenPrinted();
  });

  it('sends warnings to stderr and stops at 1000 rows without -ResultSize', async () => {
    emulator.exchange.mailboxes = 1100;
    const run = await cli(['invoke', 'Get-Mailbox', '--select', 'Alias', ...exchange()]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveLength(1000);
    expect(run.stderr).toBe(
      'exo-login: warning: There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.\n',
    );
    expect(emulator.exchange.invocations()[0]?.query).toBe('?$select=Alias');
  });

  it('prints a table for reading, with server text made printable', async () => {
    emulator.exchange
      .organization()
      .nouns('RemoteDomain')
      .set('evil', { Name: 'evil\u001b[31m', DomainName: 'x.com' });
    const run = await cli([
      'invoke',
      'Get-RemoteDomain',
      '--format',
      'table',
      '--select',
      'Name,DomainName',
      ...exchange(),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('Name      DomainName\n--------- ----------\nevil [31m x.com\n');
  });

  it('prints server data that the runner cannot read as a workflow command, in every format', async () => {
    // The runner trims a line's start before looking for ::, and finds the legacy ##[command] anywhere in a line.
    const commands = (text: string): string[] =>
      text.split('\n').filter((line) => line.trimStart().startsWith('::') || line.includes('##['));
    const evil = { Name: '::error::forged', DomainName: '##[stop-commands]x', '::warning::key': 'v' };
    emulator.exchange.organization().nouns('RemoteDomain').set('evil', evil);
    for (const format of ['json', 'ndjson', 'table']) {
      const run = await cli(['invoke', 'Get-RemoteDomain', '--format', format, ...exchange()]);
      expect(run.code, run.stderr).toBe(0);
      expect(commands(run.stdout), format).toEqual([]);
      if (format === 'table') continue;
      const lines = run.stdout.trim().split('\n');
      const rows = (
        format === 'json' ? JSON.parse(run.stdout) : lines.map((l) => JSON.parse(l) as unknown)
      ) as unknown[];
      // The data itself is unchanged: only its JSON spelling avoids the pattern.
      expect(rows).toContainEqual(expect.objectContaining(evil));
    }
    const failed = await cli(['invoke', 'Get-Mailbox', '-Identity', '##[error]forged', ...exchange()]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('forged');
    expect(commands(failed.stderr)).toEqual([]);
  });

  it('exits 1 with the service message on a cmdlet error', async () => {
    const run = await cli(['invoke', 'Get-Mailbox', '-Identity', 'nobody', ...exchange()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^exo-login: Get-Mailbox failed \(HTTP 404, ManagementObjectNotFoundException\): The operation couldn't be performed because object 'nobody' couldn't be found on '[^']+'\. \[client-request-id [0-9a-f-]{36}, request-id [0-9a-f-]{36}\]\n$/,
    );
    expectNoTokenPrinted();
  });

  it.each([
    [['invoke'], /^exo-login: 'invoke' needs a cmdlet: exo-login invoke Get-Mailbox/],
    [['invoke', '-Identity', 'x'], /^exo-login: 'invoke' needs a cmdlet before its parameters/],
    [['invoke', 'Get Mailbox'], /argument CMDLET must be a cmdlet name/],
    [['invoke', 'Get-Mailbox', '--parameters', '{bad'], /option --parameters must be a JSON object/],
    [
      ['invoke', 'Get-Mailbox', '--parameters', '[1]'],
      /option --parameters must be a JSON object of parameter names/,
    ],
    [
      ['invoke', 'Get-Mailbox', '-Identity', 'a', '--parameters', '{"identity":"b"}'],
      /and -Identity both set identity/,
    ],
    [['invoke', 'Get-Mailbox', '-Identity', 'a', '-identity', 'b'], /-identity is given twice/],
    [
      ['invoke', 'Get-Mailbox', '--parameters', '{"ResultSize":5,"resultsize":"Unlimited"}'],
      /option --parameters sets ResultSize twice \('ResultSize' and 'resultsize'\)/,
    ],
    // What bash leaves of an unquoted -Confirm:$false: refused, not sent as an empty string.
    [['invoke', 'Set-Mailbox', '-Confirm:'], /'-Confirm:' has no value.*single quotes: '-Confirm:\$false'/],
    [['invoke', 'Get-Mailbox', '--format', 'csv'], /option --format must be one of json, ndjson, table/],
    [['invoke', 'Get-Mailbox', '--endpoint', 'graph'], /option --endpoint must be exchange or compliance/],
    [['invoke', 'Get-Mailbox', '--select', 'a;b'], /option --select takes property names/],
    [['invoke', 'Get-Mailbox', 'extra'], /unexpected arguments after 'Get-Mailbox': 'extra'/],
    [['token', '--select', 'x'], /--select does not apply to 'exo-login token'/],
  ])('exits 2 on a usage error before any request: %j', async (args, message) => {
    const run = await cli([...args, ...exchange()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(emulator.requests).toHaveLength(0);
    expect(emulator.exchange.requests).toHaveLength(0);
  });

  it('runs Security & Compliance cmdlets with --endpoint compliance on the compliance token and host', async () => {
    const run = await cli([
      'invoke',
      'Get-Label',
      '--endpoint',
      'compliance',
      '--resource',
      `compliance=${emulator.exchange.complianceUrl}`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('[]\n');
    expect(emulator.requests.filter((r) => r.endpoint === 'token').map((r) => r.scope)).toEqual([
      `${emulator.exchange.complianceUrl}/.default`,
    ]);
    expect(emulator.exchange.invocations().map((r) => r.host)).toEqual(['compliance']);
  });

  it('stops quietly when the reader closes the pipe (| head)', async () => {
    emulator.exchange.mailboxes = 2500;
    const command = `"${process.execPath}" "${join(ROOT, 'bin/exo-login.js')}" invoke Get-Mailbox -ResultSize Unlimited --format ndjson --resource exchange=${emulator.exchange.url} | head -c 19; echo; echo "exit \${PIPESTATUS[0]}"`;
    const child = spawn('bash', ['-c', command], {
      env: cliEnvironment(emulator),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    await new Promise((resolve) => child.on('close', resolve));
    expect(output).toBe('{"Name":"user0001",\nexit 0\n');
  });

  it('prints its help', async () => {
    const run = await cli(['invoke', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: exo-login invoke \[settings\] CMDLET \[-Name value\]/);
    expect(run.stdout).toContain('--parameters JSON');
    // Unquoted, a POSIX shell expands $false to nothing and -AuditEnabled becomes a bare switch: true.
    expect(run.stdout).toContain("-AuditEnabled '$false'");
    expect(run.stdout).not.toMatch(/(?<!')\$(true|false|null)\b(?!')/);
  });
});
