import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandScripts, posixRelative, shardMatrix, shardOf } from '../../src/workers/plan.js';
import { powershellWrapper, psQuote } from '../../src/workers/wrapper.js';

describe('sharding', () => {
  it('partitions every list exactly and balances shards to within one', () => {
    for (let size = 0; size <= 40; size++) {
      const items = Array.from({ length: size }, (_, i) => `s${i}`);
      for (let total = 1; total <= 9; total++) {
        const shards = Array.from({ length: total }, (_, i) => shardOf(items, { index: i + 1, total }));
        expect(shards.flat().sort()).toEqual([...items].sort());
        expect(new Set(shards.flat()).size).toBe(size);
        const sizes = shards.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
  it('lists the shards for a matrix', () => {
    expect(shardMatrix(3)).toEqual({ shard: ['1/3', '2/3', '3/3'] });
    expect(JSON.stringify(shardMatrix(1))).toBe('{"shard":["1/1"]}');
  });
});

describe('script expansion', () => {
  it('expands globs and paths, dedupes, and sorts by POSIX path in code-point order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-plan-'));
    await mkdir(join(dir, 'checks', 'b'), { recursive: true });
    for (const f of [
      'checks/Zeta.ps1',
      'checks/alpha.ps1',
      'checks/b/one.ps1',
      'checks/notes.txt',
      'run.sh',
    ]) {
      await writeFile(join(dir, f), '');
    }
    const found = await expandScripts(['checks/**/*.ps1', 'run.sh', 'checks/alpha.ps1'], dir);
    expect(found.map((p) => posixRelative(p, dir))).toEqual([
      'checks/Zeta.ps1',
      'checks/alpha.ps1',
      'checks/b/one.ps1',
      'run.sh',
    ]);
  });
  it('names a pattern that matches nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-plan-'));
    await expect(expandScripts(['missing/*.ps1'], dir)).rejects.toThrow(
      /^Input 'scripts': 'missing\/\*\.ps1' matches no file/,
    );
    await expect(expandScripts(['nope.ps1'], dir)).rejects.toThrow(/'nope\.ps1' matches no file/);
  });
});

describe('PowerShell wrapper', () => {
  const text = powershellWrapper({
    script: "/w/it's here/check.ps1",
    organization: 'contoso.onmicrosoft.com',
    environment: 'O365Default',
    compliance: true,
    moduleVersion: '3.7.2',
  });
  it('connects with the token from the environment and always disconnects', () => {
    expect(text).toContain("$ErrorActionPreference = 'Stop'");
    expect(text).toContain(
      "Connect-ExchangeOnline -AccessToken $env:EXO_ACCESS_TOKEN -Organization 'contoso.onmicrosoft.com' -ExchangeEnvironmentName 'O365Default' -ShowBanner:$false",
    );
    expect(text).toContain(
      "Connect-IPPSSession -AccessToken $env:IPPS_ACCESS_TOKEN -Organization 'contoso.onmicrosoft.com'",
    );
    expect(text).toContain("Import-Module ExchangeOnlineManagement -RequiredVersion '3.7.2'");
    expect(text).toContain('Install-Module ExchangeOnlineManagement -RequiredVersion 3.7.2');
    expect(text).toMatch(/finally \{\n.*Disconnect-ExchangeOnline -Confirm:\$false/);
    expect(text).toContain("& '/w/it''s here/check.ps1'");
    expect(text).toMatch(/exit \$exoExit\n$/);
  });
  it('leaves Security & Compliance out unless asked', () => {
    const plain = powershellWrapper({
      script: '/a.ps1',
      organization: 'o.onmicrosoft.com',
      environment: 'O365China',
      compliance: false,
    });
    expect(plain).not.toContain('Connect-IPPSSession');
    expect(plain).toContain('Import-Module ExchangeOnlineManagement\n');
  });
  it('quotes for PowerShell single-quoted strings', () => {
    expect(psQuote("a'b''c")).toBe("'a''b''''c'");
  });
});
