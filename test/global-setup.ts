/**
 * Makes the emulator's test CA once, before vitest forks its test processes, and points NODE_EXTRA_CA_CERTS at
 * it: Node reads that variable only at start-up, and in-process library tests use Node's default trust store.
 */
import { testCa } from './emulator/ca.ts';
import { publishRealPwsh } from './support/pwsh.ts';

export default function setup(): void {
  // exo-login honours HTTPS_PROXY / NO_PROXY; a developer's own proxy must not sit between the tests and the
  // emulator. Tests that exercise a proxy set these variables themselves.
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'])
    Reflect.deleteProperty(process.env, name);
  const ca = testCa();
  process.env['EXO_EMULATOR_CA_DIR'] = ca.dir;
  process.env['NODE_EXTRA_CA_CERTS'] = ca.caFile;
  // Looked for once here, not in every test file: a pwsh start costs most of a second.
  publishRealPwsh();
}
