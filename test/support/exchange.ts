/** A session on the emulator whose tokens the emulated Exchange admin API accepts, and a clock that never waits. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExoLoginSession, callbackSource, type ExoLoginOptions } from '../../src/index.ts';
import type { RetryClock } from '../../src/core/retry.ts';
import type { Emulator } from '../emulator/index.ts';

export function exchangeSession(emulator: Emulator, options: Partial<ExoLoginOptions> = {}): ExoLoginSession {
  return new ExoLoginSession({
    tenantId: emulator.tenantId,
    clientId: emulator.clientId,
    authorityHost: emulator.authorityHost,
    resources: emulator.exchange.resources,
    assertion: callbackSource(() => emulator.mintIdToken()),
    ...options,
  });
}

/** A token file holding a fresh federated token, for CLI runs. */
export function federatedTokenFile(emulator: Emulator): string {
  const file = join(mkdtempSync(join(tmpdir(), 'exo-fed-')), 'token');
  writeFileSync(file, emulator.mintIdToken());
  return file;
}

/** The environment a CLI process on the emulator gets: only PATH, the test CA, the settings and a token file. */
export function cliEnvironment(emulator: Emulator, env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    NODE_EXTRA_CA_CERTS: emulator.caFile,
    AZURE_TENANT_ID: emulator.tenantId,
    AZURE_CLIENT_ID: emulator.clientId,
    AZURE_AUTHORITY_HOST: emulator.authorityHost,
    AZURE_FEDERATED_TOKEN_FILE: federatedTokenFile(emulator),
    ...env,
  };
}

/** Sleeps are recorded and skipped, so retry tests take no time and can assert the waits. */
export function instantClock(): RetryClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    now: () => Date.now(),
    random: () => 0.5,
  };
}
