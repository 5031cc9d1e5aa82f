/**
 * Bundle-time stand-in for @actions/http-client (mapped in tsconfig.json `paths`, which ncc honours).
 * @actions/core imports it only for getIDToken; exo-login fetches ID tokens itself (retries, timeouts), and
 * the real client drags in undici, whose loading cost about 90 ms of every run. Anything that still reaches
 * it is a bug, so it fails loudly.
 */
/* eslint-disable @typescript-eslint/no-extraneous-class -- shapes only: the names @actions/core imports */
export class HttpClient {
  constructor() {
    throw new Error(
      '@actions/http-client is not bundled in exo-login (see src/action/bundle/http-client-stub.ts)',
    );
  }
}

export class BearerCredentialHandler {
  constructor() {
    throw new Error(
      '@actions/http-client is not bundled in exo-login (see src/action/bundle/http-client-stub.ts)',
    );
  }
}
