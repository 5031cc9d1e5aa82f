// Stand-in for `pwsh` in tests. It fails with exit 97 when exo-login breaks the contract, then "runs" the user's
// script by obeying `# standin: …` comment directives. One JSON line per event goes to $EXO_STANDIN_LOG.
//
// The contract:
// - arguments: exactly -NoLogo -NoProfile -NonInteractive -File <wrapper.ps1>;
// - the wrapper: a regular 0600 file of ours, whose real path is inside the real $RUNNER_TEMP (os.tmpdir() when
//   unset, as the CLI does), in a 0700 directory of ours that is not $RUNNER_TEMP itself;
// - its structure, by position and scope: $ErrorActionPreference = 'Stop' at top level before Import-Module;
//   Connect-ExchangeOnline (token from $env:EXO_ACCESS_TOKEN, the organization, the environment, no banner) as a
//   statement of a try block; Connect-IPPSSession likewise, exactly when a compliance token was given (other
//   parameters, e.g. -ConnectionUri, are tolerated); the user's script in that try, after the connects;
//   Disconnect-ExchangeOnline in that try's finally;
// - every token variable (EXO_ACCESS_TOKEN, IPPS_ACCESS_TOKEN, GRAPH_ACCESS_TOKEN): an RS256 JWT signed with the
//   key in $EXO_STANDIN_PUBLIC_KEY_FILE (required), unexpired, with the cloud's audience for its resource and the
//   tenant of $EXO_TENANT_ID (and of $EXO_STANDIN_TENANT_ID when the test sets it);
// - no token (nor a token without its signature) in the wrapper, in our argv or in our parent's argv;
// - no GitHub credentials in the environment.
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';

const started = Date.now();
const env = process.env;
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

// PowerShell ends a single-quoted string at any of ' ‘ ’ ‚ ‛; each is escaped by doubling it.
const SINGLE_QUOTES = "'\u2018\u2019\u201A\u201B";

/** Our own table, on purpose: sharing src/'s would hide mistakes in it. */
const AUDIENCES = {
  O365Default: {
    exchange: 'https://outlook.office365.com',
    compliance: 'https://ps.compliance.protection.outlook.com',
    graph: 'https://graph.microsoft.com',
  },
  O365USGovGCCHigh: {
    exchange: 'https://outlook.office365.us',
    compliance: 'https://ps.compliance.protection.office365.us',
    graph: 'https://graph.microsoft.us',
  },
  O365USGovDoD: {
    exchange: 'https://outlook-dod.office365.us',
    compliance: 'https://ps.compliance.protection.office365.us',
    graph: 'https://dod-graph.microsoft.us',
  },
  O365China: {
    exchange: 'https://partner.outlook.cn',
    compliance: 'https://ps.compliance.protection.partner.outlook.cn',
    graph: 'https://microsoftgraph.chinacloudapi.cn',
  },
};
const TOKEN_VARIABLES = [
  ['EXO_ACCESS_TOKEN', 'exchange'],
  ['IPPS_ACCESS_TOKEN', 'compliance'],
  ['GRAPH_ACCESS_TOKEN', 'graph'],
];

// --- arguments and the wrapper file ---------------------------------------------------------------------------
const args = process.argv.slice(2);
const expected = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'];
if (args.length !== 5 || expected.some((a, i) => args[i] !== a))
  violation(`arguments ${JSON.stringify(args)}`);
const wrapperPath = args[4];
if (!/\.ps1$/i.test(wrapperPath))
  violation(`wrapper ${wrapperPath} does not end in .ps1 (pwsh -File needs it)`);
const uid = process.getuid?.();
const owned = (stat, what) => {
  if (uid !== undefined && stat.uid !== uid) violation(`${what} is owned by uid ${stat.uid}, not ${uid}`);
};
const wrapperStat = lstatSync(wrapperPath, { throwIfNoEntry: false });
if (!wrapperStat?.isFile()) violation(`wrapper ${wrapperPath} is not a regular file`);
if ((wrapperStat.mode & 0o777) !== 0o600) violation(`wrapper mode ${(wrapperStat.mode & 0o777).toString(8)}`);
owned(wrapperStat, 'wrapper');
const runnerTemp = env.RUNNER_TEMP ?? tmpdir();
if (!runnerTemp) violation('RUNNER_TEMP is empty');
const realTemp = realpathSync(runnerTemp);
const realWrapper = realpathSync(wrapperPath);
const inside = (path, dir) => {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};
if (!inside(realWrapper, realTemp)) violation(`wrapper ${realWrapper} is not inside RUNNER_TEMP ${realTemp}`);
const privateDir = dirname(realWrapper);
if (privateDir === realTemp) violation('wrapper is directly in RUNNER_TEMP, not in a private directory');
const dirStat = lstatSync(privateDir);
if ((dirStat.mode & 0o777) !== 0o700)
  violation(`wrapper directory mode ${(dirStat.mode & 0o777).toString(8)}, not 700`);
owned(dirStat, 'wrapper directory');
const wrapper = readFileSync(wrapperPath, 'utf8');

// --- the wrapper's structure ----------------------------------------------------------------------------------
/** The text with string contents and comments blanked (same offsets), so braces and names are code only. */
const commentAt = [];
function codeOf(text) {
  let out = '';
  let state = 'code';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (state === 'code') {
      if (SINGLE_QUOTES.includes(c)) state = 'single';
      else if (c === '"') state = 'double';
      else if (c === '#') state = 'comment';
      out += state === 'comment' ? ' ' : c;
    } else if (state === 'single') {
      if (SINGLE_QUOTES.includes(c) && SINGLE_QUOTES.includes(text[i + 1] ?? '')) {
        out += '  ';
        i++;
      } else if (SINGLE_QUOTES.includes(c)) {
        state = 'code';
        out += c;
      } else out += c === '\n' ? c : ' ';
    } else if (state === 'double') {
      if (c === '`') {
        out += c === '\n' ? c : ' ';
        if (text[i + 1] !== undefined) out += text[i + 1] === '\n' ? '\n' : ' ';
        i++;
      } else if (c === '"') {
        state = 'code';
        out += c;
      } else out += c === '\n' ? c : ' ';
    } else {
      if (c === '\n') state = 'code';
      out += c === '\n' ? c : ' ';
    }
    if (state === 'comment') commentAt[i] = true;
  }
  if (state === 'single' || state === 'double') violation('wrapper has an unterminated string');
  return out;
}

const code = codeOf(wrapper);
/** The text with only comments blanked: statements keep their quoted values. */
const uncommented = wrapper.replace(/[^]/g, (c, i) => (commentAt[i] ? ' ' : c));

/** Blocks ({ … }) with their kind (try, catch, finally, if, …) and, for catch/finally, the try they belong to. */
function blocksOf(text) {
  const blocks = [];
  const stack = [];
  let lastClosed = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      const before = text.slice(0, i);
      const head = before
        .slice(Math.max(before.lastIndexOf('\n'), before.lastIndexOf(';'), before.lastIndexOf('{')) + 1)
        .replace(/^\s*\}?\s*/, '')
        .trim();
      const kind = /^try$/i.test(head)
        ? 'try'
        : /^catch\b/i.test(head)
          ? 'catch'
          : /^finally$/i.test(head)
            ? 'finally'
            : /^(if|elseif|else)\b/i.test(head)
              ? 'if'
              : 'other';
      const block = { id: blocks.length, kind, open: i, close: Infinity, parent: stack.at(-1)?.id ?? -1 };
      if (kind === 'catch' || kind === 'finally') {
        const sibling = lastClosed[stack.length];
        const tryId =
          sibling?.kind === 'try' ? sibling.id : sibling?.kind === 'catch' ? sibling.tryId : undefined;
        if (
          tryId === undefined ||
          sibling.close > i ||
          /\S/.test(text.slice(sibling.close + 1, i).replace(/catch\b.*|finally/i, ''))
        )
          violation(`${kind} at offset ${i} does not follow a try`);
        block.tryId = tryId;
      }
      blocks.push(block);
      stack.push(block);
    } else if (c === '}') {
      const block = stack.pop();
      if (!block) violation(`unbalanced } at offset ${i} of the wrapper`);
      block.close = i;
      lastClosed[stack.length] = block;
      lastClosed = lastClosed.slice(0, stack.length + 1);
    }
  }
  if (stack.length > 0) violation('unbalanced { in the wrapper');
  return blocks;
}

const blocks = blocksOf(code);
/** Enclosing blocks, outermost first. */
const scopeAt = (offset) => blocks.filter((b) => b.open < offset && offset < b.close);

/** Statement text (from the original, so quoted values are intact) starting at `offset`. */
function statementAt(offset) {
  let end = offset;
  while (end < code.length && !/[\n;}|]/.test(code[end])) {
    if (code[end] === '`' && code[end + 1] === '\n') end++;
    end++;
  }
  return uncommented.slice(offset, end).replace(/`\n/g, ' ');
}

/** -Name value / -Name:value / -Switch, lower-cased names; a repeated parameter is a violation. */
function parametersOf(statement, command) {
  const tokens =
    statement.match(
      /['\u2018\u2019\u201A\u201B](?:[^'\u2018\u2019\u201A\u201B]|['\u2018\u2019\u201A\u201B]{2})*['\u2018\u2019\u201A\u201B]|"(?:[^"`]|`.)*"|[^\s]+/g,
    ) ?? [];
  const params = new Map();
  for (let i = 1; i < tokens.length; i++) {
    const m = /^-([A-Za-z]+)(?::(.*))?$/.exec(tokens[i]);
    if (!m) violation(`${command}: unexpected argument ${tokens[i]}`);
    const name = m[1].toLowerCase();
    let value = m[2];
    if (value === undefined && tokens[i + 1] !== undefined && !/^-[A-Za-z]/.test(tokens[i + 1]))
      value = tokens[++i];
    if (params.has(name)) violation(`${command}: -${m[1]} given twice`);
    params.set(name, value ?? true);
  }
  return params;
}

/** Every use of a command name in code (not in strings or comments), in order. */
function uses(command) {
  const found = [];
  const re = new RegExp(`(?<![\\w-])${command}(?![\\w-])`, 'gi');
  for (let m; (m = re.exec(code));) found.push({ offset: m.index, text: statementAt(m.index) });
  return found;
}

const psQuote = (value) => `'${String(value).replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
const requireParams = (command, params, required) => {
  for (const [name, value] of Object.entries(required)) {
    if (params.get(name.toLowerCase()) !== value)
      violation(
        `${command} lacks -${name}${value === true ? '' : ` ${value}`} (has ${JSON.stringify([...params])})`,
      );
  }
};

// Global: functions of script modules (the EXO cmdlets) do not see a script-scope preference.
const eaps = uses('\\$(?:global:)?ErrorActionPreference');
if (eaps.length !== 1) violation(`$ErrorActionPreference is set ${eaps.length} times, expected once`);
const eap = eaps[0];
if (!/^\$global:ErrorActionPreference\s*=\s*'Stop'\s*$/i.test(eap.text.trim()))
  violation(`expected $global:ErrorActionPreference = 'Stop', got ${eap.text.trim()}`);
if (scopeAt(eap.offset).length > 0) violation('$ErrorActionPreference is not set at top level');

const imports = uses('Import-Module').filter((u) =>
  /^Import-Module\s+ExchangeOnlineManagement\b/i.test(u.text),
);
if (imports.length !== 1) violation(`Import-Module ExchangeOnlineManagement appears ${imports.length} times`);
if (imports[0].offset < eap.offset) violation("Import-Module comes before $ErrorActionPreference = 'Stop'");
if (!wrapper.includes('Install-Module ExchangeOnlineManagement'))
  violation('wrapper lacks the Install-Module hint for a missing module');

const exoConnects = uses('Connect-ExchangeOnline');
if (exoConnects.length !== 1) violation(`Connect-ExchangeOnline appears ${exoConnects.length} times`);
const exo = exoConnects[0];
requireParams('Connect-ExchangeOnline', parametersOf(exo.text, 'Connect-ExchangeOnline'), {
  AccessToken: '$env:EXO_ACCESS_TOKEN',
  Organization: psQuote(env.EXO_ORGANIZATION),
  ExchangeEnvironmentName: psQuote(env.EXO_ENVIRONMENT),
  ShowBanner: '$false',
});
if (exo.offset < imports[0].offset) violation('Connect-ExchangeOnline comes before Import-Module');
const tryBlock = scopeAt(exo.offset).at(-1);
if (tryBlock?.kind !== 'try') violation('Connect-ExchangeOnline is not a statement of a try block');
const finallyBlock = blocks.find((b) => b.kind === 'finally' && b.tryId === tryBlock.id);
if (!finallyBlock) violation("Connect-ExchangeOnline's try has no finally");

const ippsConnects = uses('Connect-IPPSSession');
const compliance = Boolean(env.IPPS_ACCESS_TOKEN);
if (ippsConnects.length !== (compliance ? 1 : 0))
  violation(
    `Connect-IPPSSession appears ${ippsConnects.length} times ${compliance ? 'with' : 'without'} a compliance token`,
  );
for (const ipps of ippsConnects) {
  // Tolerated, not required: -ConnectionUri and -AzureADAuthorizationEndpointUri (sovereign clouds).
  requireParams('Connect-IPPSSession', parametersOf(ipps.text, 'Connect-IPPSSession'), {
    AccessToken: '$env:IPPS_ACCESS_TOKEN',
    Organization: psQuote(env.EXO_ORGANIZATION),
    ShowBanner: '$false',
  });
  if (scopeAt(ipps.offset).at(-1) !== tryBlock)
    violation('Connect-IPPSSession is not in the same try as Connect-ExchangeOnline');
}

// `& 'path'`, or the same from a file-less script block: `& ([scriptblock]::Create('& $args[0]')) 'path'`.
const FILELESS = String.raw`\(\[scriptblock\]::Create\('& \$args\[0\]'\)\)\s*`;
const calls = [...code.matchAll(/(?<![\w-])&\s*(?:\(\[scriptblock\]::Create\('\s*'\)\)\s*)?'/g)].map(
  (m) => m.index,
);
if (calls.length !== 1) violation(`the wrapper runs ${calls.length} scripts, expected one`);
const call = new RegExp(
  String.raw`^&\s*(?:${FILELESS})?(['\u2018\u2019\u201A\u201B](?:[^'\u2018\u2019\u201A\u201B]|['\u2018\u2019\u201A\u201B]{2})*['\u2018\u2019\u201A\u201B])\s*$`,
).exec(statementAt(calls[0]).trim());
if (!call) violation(`the script call has extra arguments: ${statementAt(calls[0])}`);
// A doubled quote stands for its second character (PowerShell's tokenizer).
const script = call[1]
  .slice(1, -1)
  .replace(/['\u2018\u2019\u201A\u201B](['\u2018\u2019\u201A\u201B])/g, '$1');
if (!isAbsolute(script)) violation(`the script path ${script} is not absolute`);
if (scopeAt(calls[0]).at(-1) !== tryBlock)
  violation("the script does not run in Connect-ExchangeOnline's try");
for (const connect of [exo, ...ippsConnects])
  if (calls[0] < connect.offset) violation('the script runs before the connects');

const disconnects = uses('Disconnect-ExchangeOnline');
if (disconnects.length === 0) violation('wrapper lacks Disconnect-ExchangeOnline');
for (const d of disconnects) {
  if (!scopeAt(d.offset).includes(finallyBlock)) violation('Disconnect-ExchangeOnline is not in the finally');
  if (parametersOf(d.text, 'Disconnect-ExchangeOnline').get('confirm') !== '$false')
    violation('Disconnect-ExchangeOnline would prompt: no -Confirm:$false');
}
if (!existsSync(script)) violation(`the script ${script} does not exist`);
// An inline script is a temp file next to the wrapper: it must be as private as the wrapper.
if (dirname(realpathSync(script)) === privateDir) {
  const st = lstatSync(script);
  if ((st.mode & 0o777) !== 0o600) violation(`inline script mode ${(st.mode & 0o777).toString(8)}`);
  owned(st, 'inline script');
}

// --- tokens ---------------------------------------------------------------------------------------------------
if (!env.EXO_ACCESS_TOKEN) violation('EXO_ACCESS_TOKEN is not set');
if (!env.EXO_STANDIN_PUBLIC_KEY_FILE)
  violation('EXO_STANDIN_PUBLIC_KEY_FILE is not set: cannot check signatures');
const publicKey = createPublicKey(readFileSync(env.EXO_STANDIN_PUBLIC_KEY_FILE, 'utf8'));
const audiences = AUDIENCES[env.EXO_ENVIRONMENT];
if (!audiences) violation(`unknown EXO_ENVIRONMENT ${env.EXO_ENVIRONMENT}`);
if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(env.EXO_TENANT_ID ?? ''))
  violation(`EXO_TENANT_ID ${env.EXO_TENANT_ID} is not a tenant GUID`);
if (env.EXO_STANDIN_TENANT_ID && env.EXO_TENANT_ID !== env.EXO_STANDIN_TENANT_ID)
  violation(`EXO_TENANT_ID ${env.EXO_TENANT_ID}, expected ${env.EXO_STANDIN_TENANT_ID}`);

const claimsOf = {};
for (const [name, kind] of TOKEN_VARIABLES) {
  const token = env[name];
  if (token === undefined) continue;
  const [h, p, s, extra] = token.split('.');
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8'));
  } catch {
    violation(`${name} is not a JWT`);
  }
  if (extra !== undefined || !s) violation(`${name} is not a signed JWT`);
  if (header.alg !== 'RS256') violation(`${name} alg ${header.alg}, expected RS256`);
  if (!verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url')))
    violation(`${name} signature invalid`);
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) violation(`${name} token expired`);
  if (claims.aud !== audiences[kind])
    violation(`${name} aud ${claims.aud}, expected ${audiences[kind]} for ${env.EXO_ENVIRONMENT}`);
  if (claims.tid !== env.EXO_TENANT_ID) violation(`${name} tid ${claims.tid}, expected ${env.EXO_TENANT_ID}`);
  claimsOf[name] = claims;
}

let parentArgv = '';
try {
  parentArgv = readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8');
} catch {
  // Not Linux, or the parent is gone.
}
for (const [name] of TOKEN_VARIABLES) {
  const secret = env[name];
  if (!secret) continue;
  const unsigned = secret.slice(0, secret.lastIndexOf('.'));
  for (const part of [secret, unsigned]) {
    if (wrapper.includes(part)) violation(`${name}: a token is written into the wrapper`);
    if (process.argv.some((a) => a.includes(part))) violation(`${name}: a token is on the command line`);
    if (parentArgv.includes(part)) violation(`${name}: a token is on the parent's command line`);
  }
}
if (env.ACTIONS_ID_TOKEN_REQUEST_TOKEN || env.ACTIONS_ID_TOKEN_REQUEST_URL || env.ACTIONS_RUNTIME_TOKEN) {
  violation('GitHub credentials were passed to the worker');
}

// --- act out the script ---------------------------------------------------------------------------------------
const token = env.EXO_ACCESS_TOKEN;
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
log('start', {
  fingerprint,
  exp: claimsOf.EXO_ACCESS_TOKEN.exp,
  script,
  cwd: process.cwd(),
  wrapper: realWrapper,
  compliance,
});
process.on('exit', (code) => log('end', { fingerprint, end: Date.now(), code }));
process.on('SIGTERM', () => process.exit(143));

const BARRIER_DEADLINE_MS = 20_000;
for (const directive of directives) {
  const [verb, ...rest] = directive.split(' ');
  const arg = rest.join(' ');
  if (verb === 'sleep') await new Promise((r) => setTimeout(r, Number(arg) * 1000));
  else if (verb === 'exit') process.exit(Number(arg));
  else if (verb === 'hang' || verb === 'spawn-child-and-hang') await hang();
  else if (verb === 'print') console.log(arg);
  else if (verb === 'print-token') console.log(`token=${token}`);
  else if (verb === 'barrier') {
    // `barrier N DIR`: announce this worker in DIR, then wait until N workers have (or a generous deadline).
    // Passing it proves N workers ran at once, without relying on timing.
    const n = Number(rest[0]);
    const dir = rest.slice(1).join(' ');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, String(process.pid)), '');
    const deadline = Date.now() + BARRIER_DEADLINE_MS;
    let seen = readdirSync(dir).length;
    while (seen < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      seen = existsSync(dir) ? readdirSync(dir).length : 0;
    }
    log('barrier', { reached: seen >= n, seen });
  } else if (verb === 'error') {
    // What real pwsh 7.6 prints through the wrapper for `throw 'message'` at that line: PowerShell's ConciseView,
    // then the wrapper's script frames (test/pwsh checks the real thing).
    const m = /^"(.*)" line (\d+)$/.exec(arg);
    const code = `throw '${m?.[1]}'`;
    process.stderr.write(
      `Exception: ${script}:${m?.[2]}\nLine |\n${String(m?.[2]).padStart(4)} |  ${code}\n     |  ${'~'.repeat(code.length)}\n     | ${m?.[1]}\nat <ScriptBlock>, ${script}: line ${m?.[2]}\n`,
    );
  }
}
process.exit(0);
