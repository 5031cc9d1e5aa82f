import { createServer } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/core/errors.js';
import { httpsSend, requestsSent } from '../../src/core/http.js';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from './emulator-fixture.ts';

// In-process: the emulator's CA reaches Node through NODE_EXTRA_CA_CERTS, set by test/global-setup.ts.
const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

const oidc = (url: string) =>
  httpsSend({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${emulator.oidcRequestToken}` },
    timeoutMs: 5_000,
  });

describe('requestsSent', () => {
  it('resolves at once when nothing is in flight', async () => {
    let done = false;
    void requestsSent().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(true);
  });

  it('resolves when the request is on the wire, well before a slow answer', async () => {
    emulator.injectFaults('oidc', [{ kind: 'delay', ms: 400 }]);
    const events: string[] = [];
    const response = oidc(`${emulator.oidcRequestUrl}&audience=api://AzureADTokenExchange`).then((r) => {
      events.push('answered');
      return r;
    });
    const sent = requestsSent().then(() => events.push('sent'));
    // Not yet: the socket cannot have connected within a microtask.
    await Promise.resolve();
    expect(events).toEqual([]);
    expect((await response).status).toBe(200);
    await sent;
    expect(events).toEqual(['sent', 'answered']);
    expect(emulator.counts().oidc).toBe(1);
  });

  it('resolves when a request fails before it is sent', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const port = typeof address === 'object' && address !== null ? address.port : 1;
    let failed = false;
    const failing = oidc(`https://127.0.0.1:${port}/`).catch((error: unknown) => {
      failed = true;
      return error;
    });
    let sent = false;
    const waiting = requestsSent().then(() => (sent = true));
    await Promise.resolve();
    expect(sent).toBe(false);
    await waiting;
    expect(failed).toBe(true);
    expect(await failing).toBeInstanceOf(TransportError);
  });
});
