/** A `.mjs` worker using the library client with the token exo-login gives it (tokensFromEnvironment). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { exchangeOnline, tokensFromEnvironment, tokenVariables } from '../../src/index.ts';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { ROOT } from '../integration/runner.ts';
import { cliEnvironment, exchangeSession } from '../support/exchange.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

describe('tokensFromEnvironment', () => {
  it("runs cmdlets on a worker's variables, the API host taken from the token audience", async () => {
    const minted = await exchangeSession(emulator, { organization: emulator.domain }).mint();
    const env = Object.fromEntries(tokenVariables(minted));
    const exo = exchangeOnline(tokensFromEnvironment(env));
    expect(exo.origin).toBe(emulator.exchange.url);
    expect(await exo.invoke('Get-AcceptedDomain').all()).toHaveLength(1);
    const compliance = exchangeOnline(tokensFromEnvironment(env), { endpoint: 'compliance' });
    expect(compliance.origin).toBe(emulator.exchange.complianceUrl);
    expect(emulator.exchange.invocations()[0]?.anchor).toBe(`UPN:OAuthUser@${emulator.domain}`);
  });

  it('explains what is missing or expired', async () => {
    expect(() => tokensFromEnvironment({})).toThrow(/No EXO_ACCESS_TOKEN or IPPS_ACCESS_TOKEN/);
    expect(() => tokensFromEnvironment({ EXO_ACCESS_TOKEN: 'nope' })).toThrow(/EXO_ACCESS_TOKEN must hold/);
    const expired = emulator.exchange.mintToken({ lifetimeSeconds: -5 });
    const exo = exchangeOnline(tokensFromEnvironment({ EXO_ACCESS_TOKEN: expired }));
    await expect(exo.invoke('Get-Mailbox').all()).rejects.toThrow(
      /token expired at .*a worker cannot refresh it/,
    );
  });
});

// The package's built library (lib/, made by `npm ci`'s prepare step and by `npm run build:lib`).
const lib = join(ROOT, 'lib/index.js');

describe.runIf(existsSync(lib))('a .mjs worker under exo-login run', () => {
  it('imports the package, builds the client from its environment and runs a cmdlet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-worker-'));
    await writeFile(
      join(dir, 'audit.mjs'),
      [
        `import { exchangeOnline, tokensFromEnvironment } from ${JSON.stringify(pathToFileURL(lib).href)};`,
        'const exo = exchangeOnline(tokensFromEnvironment());',
        "const rows = await exo.invoke('Get-Mailbox', { ResultSize: 'Unlimited' }, { select: ['Alias'] }).all();",
        'console.log(`mailboxes: ${rows.length}`);',
      ].join('\n'),
    );
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/exo-login.js'),
        'run',
        'audit.mjs',
        '--working-directory',
        dir,
        '--resource',
        `exchange=${emulator.exchange.url}`,
      ],
      {
        env: cliEnvironment(emulator),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, output).toBe(0);
    expect(output).toContain('mailboxes: 5');
    expect(emulator.exchange.invocations().map((r) => [r.cmdlet, r.bearer, r.query])).toEqual([
      ['Get-Mailbox', true, '?$select=Alias'],
    ]);
    for (const token of emulator.issued) expect(output).not.toContain(token);
  });
});
