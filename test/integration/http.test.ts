import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/core/errors.js';
import { ENDPOINTS, httpsSend, requestsSent } from '../../src/core/http.js';
import { testCa } from '../emulator/ca.ts';
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
    endpoint: ENDPOINTS.oidc,
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

describe('bounded answers (issue 9.4)', () => {
  it('stops reading a streamed answer past the cap, naming the endpoint, and keeps memory flat', async () => {
    emulator.injectFaults('oidc', [{ kind: 'oversized', bytes: 200 * 1024 * 1024 }]);
    const before = process.memoryUsage().rss;
    const error = await httpsSend({
      endpoint: ENDPOINTS.oidc,
      method: 'GET',
      url: `${emulator.oidcRequestUrl}&audience=a`,
      timeoutMs: 20_000,
      maxResponseBytes: 64 * 1024,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({
      errno: 'ERR_BODY_TOO_LARGE',
      permanent: 'too-large',
      endpoint: ENDPOINTS.oidc,
    });
    expect((error as Error).message).toMatch(/^answer larger than 65536 bytes/);
    // Reading 200 MB whole would cost several hundred MB; stopping early costs next to nothing.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    const { key, cert } = testCa();
    const big = await new Promise<Server>((resolve) => {
      const server = createHttpsServer({ key, cert }, (_req, res) => {
        res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
        res.write('{');
      });
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
    try {
      const address = big.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const error = await httpsSend({
        endpoint: ENDPOINTS.entra,
        method: 'GET',
        url: `https://127.0.0.1:${port}/`,
        timeoutMs: 5_000,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ errno: 'ERR_BODY_TOO_LARGE', endpoint: ENDPOINTS.entra });
    } finally {
      big.closeAllConnections();
      await new Promise<void>((resolve) => big.close(() => resolve()));
    }
  });
});

describe('httpsSend failures', () => {
  it('abandons a request in flight when its signal aborts, leaving no timer behind', async () => {
    emulator.injectFaults('oidc', [{ kind: 'delay', ms: 2_000 }]);
    const giveUp = new AbortController();
    const started = Date.now();
    const pending = httpsSend({
      endpoint: ENDPOINTS.oidc,
      method: 'GET',
      url: `${emulator.oidcRequestUrl}&audience=x`,
      headers: { authorization: `Bearer ${emulator.oidcRequestToken}` },
      timeoutMs: 5_000,
      signal: giveUp.signal,
    }).catch((error: unknown) => error);
    setTimeout(() => giveUp.abort(), 100);
    const error = await pending;
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).errno).toBe('ABORT_ERR');
    expect(Date.now() - started).toBeLessThan(1_500);
    await requestsSent();
  });

  it('does not send at all once the signal has aborted', async () => {
    const error = await httpsSend({
      endpoint: ENDPOINTS.oidc,
      method: 'GET',
      url: emulator.oidcRequestUrl,
      timeoutMs: 5_000,
      signal: AbortSignal.abort(),
    }).catch((e: unknown) => e);
    expect((error as TransportError).errno).toBe('ABORT_ERR');
    expect(emulator.connections).toBe(0);
  });

  it('reports a host DNS does not know as transient (it may be a blip), with the name looked up', async () => {
    const error = await httpsSend({
      endpoint: ENDPOINTS.entra,
      method: 'GET',
      url: 'https://login.invalid/t',
      timeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({
      errno: 'ENOTFOUND',
      lookupHost: 'login.invalid',
      diagnosis: 'no-such-host',
      transient: true,
    });
  });

  it('refuses a plain-HTTP URL without connecting, as permanent', async () => {
    const error = await httpsSend({
      endpoint: ENDPOINTS.oidc,
      method: 'GET',
      url: `http://localhost:${emulator.port}/`,
      timeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ errno: 'ERR_NOT_HTTPS', permanent: 'not-https' });
    expect(emulator.connections).toBe(0);
  });

  const listening = async <S extends Server>(server: S): Promise<S> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const portOf = (server: Server): number => {
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  };
  const closing = (server: Server): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  it('reports an https:// URL on a plain-HTTP port as permanent, not HTTPS', async () => {
    const plain = await listening(createHttpServer((_req, res) => res.end('hello')));
    try {
      const error = await httpsSend({
        endpoint: ENDPOINTS.oidc,
        method: 'GET',
        url: `https://127.0.0.1:${portOf(plain)}/`,
        timeoutMs: 5_000,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ errno: 'EPROTO', permanent: 'not-https' });
    } finally {
      await closing(plain);
    }
  });

  it('reports a failed TLS handshake (no common protocol version) as transient, diagnosed as TLS', async () => {
    const { key, cert } = testCa();
    // A server stuck on TLS 1.1, below Node's minimum: the handshake fails as one with a picky middlebox does.
    const old = await listening(
      createHttpsServer({
        key,
        cert,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT:@SECLEVEL=0',
      }),
    );
    try {
      const error = await httpsSend({
        endpoint: ENDPOINTS.oidc,
        method: 'GET',
        url: `https://127.0.0.1:${portOf(old)}/`,
        timeoutMs: 5_000,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ errno: 'EPROTO', diagnosis: 'tls', transient: true });
    } finally {
      await closing(old);
    }
  });
});
