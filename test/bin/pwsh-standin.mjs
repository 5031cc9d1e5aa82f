// Stand-in for `pwsh` in tests. It fails with exit 97 when exo-login breaks the contract (arguments, wrapper
// file mode and content, token only in the environment, GitHub credentials withheld), then "runs" the user's
// script by obeying `# standin: …` comment directives. One JSON line per event goes to $EXO_STANDIN_LOG.
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const started = Date.now();
const env = process.env;
const token = env.EXO_ACCESS_TOKEN ?? '';
const children = [];

function log(event, extra = {}) {
  if (!env.EXO_STANDIN_LOG) return;
  appendFileSync(
    env.EXO_STANDIN_LOG,
    `${JSON.stringify({ event, pid: process.pid, worker: env.EXO_WORKER, start: started, time: Date.now(), children, ...extra })}\n`,
  );
}

function violation(message) {
  process.stderr.write(`pwsh stand-in: contract violated: ${message}\n`);
  log('violation', { message });
  process.exit(97);
}

const args = process.argv.slice(2);
const expected = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'];
if (args.length !== 5 || expected.some((a, i) => args[i] !== a))
  violation(`arguments ${JSON.stringify(args)}`);
const wrapperPath = args[4];
const wrapperStat = statSync(wrapperPath);
if ((wrapperStat.mode & 0o777) !== 0o600) violation(`wrapper mode ${(wrapperStat.mode & 0o777).toString(8)}`);
if ((statSync(dirname(wrapperPath)).mode & 0o777) !== 0o700) violation('wrapper directory is not 0700');
const wrapper = readFileSync(wrapperPath, 'utf8');
const required = [
  "$ErrorActionPreference = 'Stop'",
  'Import-Module ExchangeOnlineManagement',
  'Install-Module ExchangeOnlineManagement',
  'Connect-ExchangeOnline -AccessToken $env:EXO_ACCESS_TOKEN -Organization ',
  '-ShowBanner:$false',
  'Disconnect-ExchangeOnline -Confirm:$false',
  `-ExchangeEnvironmentName '${env.EXO_ENVIRONMENT}'`,
  `-Organization '${env.EXO_ORGANIZATION}'`,
];
if (env.IPPS_ACCESS_TOKEN) required.push('Connect-IPPSSession -AccessToken $env:IPPS_ACCESS_TOKEN');
for (const line of required) if (!wrapper.includes(line)) violation(`wrapper lacks ${line}`);
if (!env.IPPS_ACCESS_TOKEN && wrapper.includes('Connect-IPPSSession'))
  violation('Connect-IPPSSession without a compliance token');
if (!token) violation('EXO_ACCESS_TOKEN is not set');
for (const secret of [token, env.IPPS_ACCESS_TOKEN, env.GRAPH_ACCESS_TOKEN].filter(Boolean)) {
  if (wrapper.includes(secret)) violation('a token is written into the wrapper');
  if (process.argv.some((a) => a.includes(secret))) violation('a token is on the command line');
}
if (env.ACTIONS_ID_TOKEN_REQUEST_TOKEN || env.ACTIONS_ID_TOKEN_REQUEST_URL || env.ACTIONS_RUNTIME_TOKEN) {
  violation('GitHub credentials were passed to the worker');
}
const [h, p, s] = token.split('.');
let header;
let claims;
try {
  header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString('utf8'));
  claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8'));
} catch {
  violation('EXO_ACCESS_TOKEN is not a JWT');
}
if (env.EXO_STANDIN_PUBLIC_KEY_FILE) {
  if (header.alg !== 'RS256') violation(`token alg ${header.alg}, expected RS256`);
  const key = createPublicKey(readFileSync(env.EXO_STANDIN_PUBLIC_KEY_FILE, 'utf8'));
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s ?? '', 'base64url')))
    violation('token signature invalid');
}
if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) violation('token expired');

const scriptLine = wrapper.split('\n').find((l) => /^\s*& '/.test(l));
if (!scriptLine) violation('wrapper does not run a script');
const script = /^\s*& '((?:[^']|'')*)'\s*$/.exec(scriptLine)?.[1]?.replace(/''/g, "'");
const directives = readFileSync(script, 'utf8')
  .split('\n')
  .map((l) => /^#\s*standin:\s*(.*)$/.exec(l.trim())?.[1])
  .filter(Boolean);

const fingerprint = createHash('sha256').update(token).digest('hex').slice(0, 16);
const hang = () => new Promise(() => setInterval(() => {}, 1 << 30));
for (const directive of directives) {
  if (directive.startsWith('spawn-child-and-hang')) {
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    children.push(child.pid);
  }
}
log('start', { fingerprint, exp: claims.exp, script });
process.on('exit', (code) => log('end', { fingerprint, end: Date.now(), code }));
process.on('SIGTERM', () => process.exit(143));

for (const directive of directives) {
  const [verb, ...rest] = directive.split(' ');
  const arg = rest.join(' ');
  if (verb === 'sleep') await new Promise((r) => setTimeout(r, Number(arg) * 1000));
  else if (verb === 'exit') process.exit(Number(arg));
  else if (verb === 'hang' || verb === 'spawn-child-and-hang') await hang();
  else if (verb === 'print') console.log(arg);
  else if (verb === 'print-token') console.log(`token=${token}`);
  else if (verb === 'error') {
    const m = /^"(.*)" line (\d+)$/.exec(arg);
    process.stderr.write(
      `Write-Error: ${script}:${m?.[2]}\nLine |\n  ${m?.[2]} |  Write-Error '${m?.[1]}'\n     |  ~~~~~~~~~~~~~~~~~~~~~~~~~~~\n     | ${m?.[1]}\n`,
    );
  }
}
process.exit(0);
