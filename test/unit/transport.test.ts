import { describe, expect, it } from 'vitest';
import { classifyHttpFailure } from '../../src/core/assertion.js';
import { TransportError } from '../../src/core/errors.js';
import { redactCredentials } from '../../src/core/http.js';
import { fixForTransport } from '../../src/core/troubleshooting.js';

describe('redactCredentials', () => {
  it('hides user:password in every URL of a message and leaves the rest', () => {
    const message =
      'Failed to establish tunnel to login.microsoftonline.com:443 via http://corp%5Cbuild:p%40ss@proxy.corp:3128: HTTP/1.1 407';
    expect(redactCredentials(message)).toBe(
      'Failed to establish tunnel to login.microsoftonline.com:443 via http://***@proxy.corp:3128: HTTP/1.1 407',
    );
    expect(redactCredentials('a https://u@x.example/p and http://v:w@y.example')).toBe(
      'a https://***@x.example/p and http://***@y.example',
    );
    expect(redactCredentials('connect ECONNREFUSED 127.0.0.1:3128')).toBe(
      'connect ECONNREFUSED 127.0.0.1:3128',
    );
  });
});

describe('transport failures', () => {
  const failure = (proxyStatus?: number): TransportError =>
    new TransportError('x', 'https://login.example/t', 'ERR_PROXY_TUNNEL', proxyStatus);

  it.each([
    [undefined, true],
    [502, true],
    [503, true],
    [408, true],
    [429, true],
    [407, false],
    [403, false],
    [400, false],
  ])('proxy status %s is transient: %s', (status, transient) => {
    expect(failure(status).transient).toBe(transient);
    expect(classifyHttpFailure(failure(status), 0)).toEqual({ transient });
  });

  it('points a proxy refusal at its own fix, anything else at the network fix', () => {
    expect(fixForTransport(failure(407))).toContain('TROUBLESHOOTING.md#proxy-refused');
    expect(fixForTransport(failure())).toContain('TROUBLESHOOTING.md#network');
  });
});
