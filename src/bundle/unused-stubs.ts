/**
 * Bundle-time stand-ins (mapped in tsconfig.json `paths`, which ncc honours) for modules @actions/core imports but
 * exo-login never calls: @actions/http-client (only for getIDToken: exo-login fetches ID tokens itself, with
 * retries and timeouts) and @actions/exec (only for platform.getDetails). Loading them, with undici, assert and
 * friends, cost about 100 ms of every run. Anything that still reaches them is a bug, so they fail loudly.
 */
const unused = (name: string): Error =>
  new Error(`${name} is not bundled in exo-login (see src/bundle/unused-stubs.ts)`);

/* eslint-disable @typescript-eslint/no-extraneous-class -- shapes only: the names @actions/core imports */
export class HttpClient {
  constructor() {
    throw unused('@actions/http-client');
  }
}

export class BearerCredentialHandler {
  constructor() {
    throw unused('@actions/http-client');
  }
}
/* eslint-enable @typescript-eslint/no-extraneous-class */

export function getExecOutput(): Promise<never> {
  return Promise.reject(unused('@actions/exec'));
}
