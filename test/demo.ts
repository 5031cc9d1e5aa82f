/**
 * `npm run demo`: the built action end to end on the local emulator, as a GitHub runner would run it, with three
 * PowerShell workers. With real pwsh installed they run under it, with the stand-in ExchangeOnlineManagement
 * module (test/pwsh/modules) calling the emulator's Exchange admin API; without it, under the JavaScript imitation
 * of pwsh (test/bin). Prints what the workflow log would show, with the runner's masking applied, then the
 * outputs a later step gets and the job summary. Every tenant value comes from the emulator and is labelled so.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from './emulator/index.ts';
import { ROOT, runAction } from './integration/runner.ts';
import { adminApi } from './pwsh/harness.ts';
import { findRealPwsh, HOW_TO_GET_PWSH, standinModuleEnv } from './support/pwsh.ts';

const emulator = await startEmulator();
const ws = await mkdtemp(join(tmpdir(), 'exo-demo-'));
await mkdir(join(ws, 'checks'));
// EXO_DEMO_IMITATION=1 shows the imitation's run on a machine that has pwsh.
const pwsh = process.env['EXO_DEMO_IMITATION'] === '1' ? undefined : findRealPwsh();

// Real PowerShell: scripts a user would write. The imitation: directives it acts out.
const scripts: Record<string, string> = pwsh
  ? {
      'mailbox-audit.ps1':
        '$off = @(Get-Mailbox -ResultSize Unlimited | Where-Object { -not $_.AuditEnabled })\n"[emulated tenant] mailboxes with auditing off: $($off.Count)"\n',
      'accepted-domains.ps1':
        'Get-AcceptedDomain | ForEach-Object { "[emulated tenant] $($_.DomainName)  $($_.DomainType)  default=$($_.Default)" }\n',
      'transport-rules.ps1':
        '$rules = @(Get-TransportRule)\n"[emulated tenant] $($rules.Count) transport rules, $(@($rules | Where-Object State -eq Disabled).Count) disabled"\n"token=$env:EXO_ACCESS_TOKEN"\n',
    }
  : {
      'mailbox-audit.ps1':
        '# standin: sleep 1\n# standin: print [emulated tenant] mailboxes with auditing off: 0\n',
      'accepted-domains.ps1':
        '# standin: sleep 1\n# standin: print [emulated tenant] contoso.onmicrosoft.com  InitialDomain  True\n',
      'transport-rules.ps1':
        '# standin: sleep 1\n# standin: print [emulated tenant] 3 transport rules, none disabled\n# standin: print-token\n',
    };
for (const [name, text] of Object.entries(scripts)) await writeFile(join(ws, 'checks', name), text);

const api = pwsh ? adminApi(emulator) : undefined;
const inputs = {
  'tenant-id': emulator.domain,
  'client-id': emulator.clientId,
  'authority-host': emulator.authorityHost,
  resources: api ? `exchange=${api.exchange},compliance=${api.compliance}` : 'exchange,compliance',
  scripts: 'checks/*.ps1',
  'max-parallel': '3',
};
console.log(
  '# exo-login demo: the built dist/index.js on the local GitHub OIDC + Entra ID + Exchange emulator',
);
console.log(
  pwsh
    ? `# workers: PowerShell ${pwsh.version} with a stand-in ExchangeOnlineManagement module, against the emulator`
    : `# workers: a JavaScript imitation of pwsh, not PowerShell (${process.env['EXO_DEMO_IMITATION'] === '1' ? 'EXO_DEMO_IMITATION=1' : `no pwsh 7 found; get it: ${HOW_TO_GET_PWSH}`})`,
);
console.log('# every mailbox, domain and rule below is the emulator’s made-up tenant, not real data\n');
console.log('with:');
for (const [name, value] of Object.entries(inputs)) console.log(`  ${name}: ${value}`);
console.log('\n--- workflow log (as the runner shows it: masked values become ***) ---');

const run = await runAction({
  inputs,
  cwd: ws,
  env: {
    ...emulator.env,
    ...(pwsh
      ? standinModuleEnv(pwsh, {
          caFile: emulator.caFile,
          moduleLog: join(ws, 'module.log'),
          // What a real connect costs (the module generates its cmdlets), so the timing below means something.
          connectDelayMs: 1000,
        })
      : { PATH: `${join(ROOT, 'test/bin')}:${process.env['PATH'] ?? ''}` }),
    EXO_STANDIN_PUBLIC_KEY_FILE: emulator.accessTokenPublicKeyFile,
  },
});
const masks = run.masks.filter((m) => m !== '');
const mask = (line: string): string => masks.reduce((text, secret) => text.split(secret).join('***'), line);
for (const line of run.stdout.split('\n')) {
  if (line.startsWith('::add-mask::')) continue;
  const group = /^::group::(.*)$/.exec(line);
  if (group) console.log(`▸ ${mask(group[1] ?? '')}`);
  else if (line === '::endgroup::') continue;
  else if (line !== '')
    console.log(`  ${mask(line.replace(/^::(\w+)[^:]*::/, (_, kind: string) => `${kind.toUpperCase()}: `))}`);
}
const admin = emulator.exchange.requests;
console.log(
  `\nexit code ${run.code}; ${masks.length} values masked; emulator requests ${JSON.stringify(emulator.counts())}; Exchange admin API: ${admin.filter((r) => r.kind === 'moduleFile').length} connects (EXOModuleFile, one per Connect-ExchangeOnline or Connect-IPPSSession), ${admin.filter((r) => r.kind === 'invoke').length} InvokeCommand calls`,
);

console.log('\n--- outputs a later step gets (${{ steps.exo.outputs.* }}) ---');
for (const [name, value] of Object.entries(run.outputs)) {
  const shown = masks.includes(value)
    ? `*** (masked JWT, ${value.length} chars, valid for the emulator's key: ${String(Boolean(emulator.verifyAccessToken(value)))})`
    : value;
  console.log(`${name}: ${name === 'results' ? JSON.stringify(JSON.parse(value), null, 0) : shown}`);
}
const rows = JSON.parse(run.outputs['results'] ?? '[]') as { durationMs: number }[];
const total = rows.reduce((sum, row) => sum + row.durationMs, 0);
console.log(
  `\nthree workers ran in parallel: ${(total / 1000).toFixed(1)} s of work in ${(run.durationMs / 1000).toFixed(1)} s of wall time`,
);
console.log('\n--- job summary (markdown) ---');
console.log(run.summary.trim());
await emulator.close();
process.exitCode = run.code ?? 1;
