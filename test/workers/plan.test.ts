import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { input } from '../../src/core/names.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandScripts, planWorkers, posixRelative, shardOf, shardPlan } from '../../src/workers/plan.js';
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
  it('lists every shard with its scripts, relative to the working directory', () => {
    const cwd = join(tmpdir(), 'w');
    const all = ['a.ps1', 'b.ps1', 'c.sh'].map((f) => join(cwd, f));
    expect(shardPlan(all, 2, cwd)).toEqual([
      { shard: '1/2', scripts: ['a.ps1', 'c.sh'] },
      { shard: '2/2', scripts: ['b.ps1'] },
    ]);
    expect(shardPlan(all, 4, cwd).at(-1)).toEqual({ shard: '4/4', scripts: [] });
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

describe('planning workers before any request', () => {
  const names = {
    scripts: input('scripts'),
    workingDirectory: input('working-directory'),
    organization: input('organization'),
    resources: input('resources'),
  };
  const plan = async (
    files: string[],
    options: {
      patterns: string[];
      inline?: boolean;
      organization?: string;
      cwd?: string;
      exchange?: boolean;
    },
  ) => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-plan-'));
    for (const f of files) {
      await mkdir(join(dir, f, '..'), { recursive: true });
      await writeFile(join(dir, f), '');
    }
    return planWorkers({
      patterns: options.patterns,
      cwd: options.cwd ?? dir,
      shard: undefined,
      inline: options.inline ?? false,
      organization: options.organization,
      exchange: options.exchange ?? true,
      names,
    });
  };
  it('matches, sorts and shards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-plan-'));
    for (const f of ['b.sh', 'a.sh', 'c.py']) await writeFile(join(dir, f), '');
    const result = await planWorkers({
      patterns: ['*.sh', 'c.py'],
      cwd: dir,
      shard: { index: 2, total: 2 },
      inline: false,
      organization: undefined,
      exchange: false,
      names,
    });
    expect(result.all.map((p) => posixRelative(p, dir))).toEqual(['a.sh', 'b.sh', 'c.py']);
    expect(result.mine.map((p) => posixRelative(p, dir))).toEqual(['b.sh']);
  });
  it('refuses a working directory that does not exist', async () => {
    await expect(plan([], { patterns: ['a.sh'], cwd: join(tmpdir(), 'exo-no-such-dir') })).rejects.toThrow(
      /^Input 'working-directory' must be an existing directory; .*exo-no-such-dir is not one\.$/,
    );
  });
  it('names the files a glob matched that cannot be run', async () => {
    await expect(
      plan(['checks/a.ps1', 'checks/README.md'], {
        patterns: ['checks/*'],
        organization: 'x.onmicrosoft.com',
      }),
    ).rejects.toThrow(
      /^Input 'scripts' matched 'checks\/README\.md', which exo-login cannot run: use \.ps1, \.sh, \.js, \.mjs, \.py files/,
    );
  });
  it('summarises a long list of files it cannot run (issue 9.7)', async () => {
    const many = Array.from({ length: 300 }, (_, i) => `docs/note-${String(i).padStart(3, '0')}.md`);
    const error = (await plan(many, { patterns: ['docs/*'], organization: 'x.onmicrosoft.com' }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(
      /^Input 'scripts' matched 'docs\/note-000\.md', 'docs\/note-001\.md', .* and 295 more, which exo-login cannot run/,
    );
    expect(error.message.length).toBeLessThan(400);
  });
  it('needs an Exchange token for PowerShell workers, not for others', async () => {
    const org = 'contoso.onmicrosoft.com';
    const needs = /^Input 'resources' must include exchange for PowerShell workers/;
    await expect(
      plan(['a.ps1'], { patterns: ['a.ps1'], organization: org, exchange: false }),
    ).rejects.toThrow(needs);
    await expect(
      plan([], { patterns: [], inline: true, organization: org, exchange: false }),
    ).rejects.toThrow(needs);
    await expect(plan(['b.py'], { patterns: ['b.py'], exchange: false })).resolves.toBeDefined();
  });
  it('needs the organization for .ps1 scripts and inline PowerShell, not for others', async () => {
    const needs =
      /^Input 'organization' is needed for PowerShell workers \(Connect-ExchangeOnline -Organization\)/;
    await expect(plan(['a.ps1', 'b.sh'], { patterns: ['*'] })).rejects.toThrow(needs);
    await expect(plan([], { patterns: [], inline: true })).rejects.toThrow(needs);
    await expect(plan(['b.sh'], { patterns: ['b.sh'] })).resolves.toMatchObject({
      mine: [expect.stringMatching(/b\.sh$/)],
    });
    await expect(
      plan(['A.PS1'], { patterns: ['A.PS1'], organization: 'contoso.onmicrosoft.com' }),
    ).resolves.toBeDefined();
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
    expect(text).toContain("$global:ErrorActionPreference = 'Stop'");
    expect(text).toContain(
      "Connect-ExchangeOnline -AccessToken $env:EXO_ACCESS_TOKEN -Organization 'contoso.onmicrosoft.com' -ExchangeEnvironmentName 'O365Default' -ShowBanner:$false",
    );
    expect(text).toContain(
      "Connect-IPPSSession -AccessToken $env:IPPS_ACCESS_TOKEN -Organization 'contoso.onmicrosoft.com'",
    );
    expect(text).toContain("Import-Module ExchangeOnlineManagement -RequiredVersion '3.7.2'");
    expect(text).toContain('Install-Module ExchangeOnlineManagement -RequiredVersion 3.7.2');
    expect(text).toMatch(/finally \{\n.*Disconnect-ExchangeOnline -Confirm:\$false/);
    expect(text).toContain("& ([scriptblock]::Create('& $args[0]')) '/w/it''s here/check.ps1'");
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
    // PowerShell also ends single-quoted strings at typographic quotes.
    expect(psQuote('Bob’s ‘x’ ‚y‛')).toBe("'Bob’’s ‘‘x’’ ‚‚y‛‛'");
  });
  it('exits non-zero for a script exit code that is a multiple of 256', () => {
    const text = powershellWrapper({
      script: '/w/a.ps1',
      organization: 'contoso.onmicrosoft.com',
      environment: 'O365Default',
      compliance: false,
    });
    expect(text).toMatch(
      /if \(\$exoExit -ne 0 -and \$exoExit % 256 -eq 0\) \{ \$exoExit = 1 \}\nexit \$exoExit\n$/,
    );
  });
});
