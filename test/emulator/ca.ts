/** A throwaway test CA and a server certificate for localhost/127.0.0.1, made with the openssl CLI. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caFile: string;
  ca: string;
  key: string;
  cert: string;
}

let cached: TestCa | undefined;

/** One CA per process: generating keys costs tens of milliseconds, and tests start many emulators. */
export function testCa(): TestCa {
  if (cached) return cached;
  // vitest's global setup makes the CA before test processes start, so NODE_EXTRA_CA_CERTS can name it.
  const shared = process.env['EXO_EMULATOR_CA_DIR'];
  if (shared && existsSync(join(shared, 'server.pem'))) {
    cached = load(shared);
    return cached;
  }
  const dir = mkdtempSync(join(tmpdir(), 'exo-emulator-ca-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '3',
    '-subj',
    '/CN=exo-login test CA',
  );
  openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(
    file('ext.cnf'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '3',
    '-extfile',
    file('ext.cnf'),
  );
  cached = load(dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return cached;
}

function load(dir: string): TestCa {
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}
