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

  const failed = (
    errno: string,
    url = 'https://login.example:8443/t/oauth2/v2.0/token',
    lookupHost?: string,
  ) => new TransportError('x', url, errno, undefined, lookupHost);

  it.each([
    // Certificates: the same certificate comes back on every retry.
    ['DEPTH_ZERO_SELF_SIGNED_CERT', false],
    ['SELF_SIGNED_CERT_IN_CHAIN', false],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', false],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', false],
    ['CERT_HAS_EXPIRED', false],
    ['CERT_NOT_YET_VALID', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', false],
    ['HOSTNAME_MISMATCH', false],
    // No such host, and a URL or peer that does not speak HTTPS.
    ['ENOTFOUND', false],
    ['EPROTO', false],
    // Everything that can pass.
    ['EAI_AGAIN', true],
    ['ECONNRESET', true],
    ['ETIMEDOUT', true],
    ['ECONNREFUSED', true],
    ['EPIPE', true],
    ['ENETUNREACH', true],
    ['EHOSTUNREACH', true],
    ['EUNKNOWN', true],
  ])('%s is transient: %s', (errno, transient) => {
    expect(failed(errno).transient).toBe(transient);
    expect(classifyHttpFailure(failed(errno), 0)).toEqual({ transient });
  });

  it('names the host and the certificate fix for a certificate failure', () => {
    const fix = fixForTransport(failed('SELF_SIGNED_CERT_IN_CHAIN'));
    expect(fix).toMatch(
      /^The TLS certificate of login\.example:8443 is not trusted \(SELF_SIGNED_CERT_IN_CHAIN\)\. Fix: /,
    );
    expect(fix).toContain('NODE_EXTRA_CA_CERTS');
    expect(fix).toContain('TROUBLESHOOTING.md#certificate');
  });

  it('names the host DNS does not know, and tells a mistyped host from a mistyped proxy', () => {
    expect(fixForTransport(failed('ENOTFOUND', 'https://login.example/t', 'login.example'))).toMatch(
      /^No such host: DNS does not know login\.example; check the host name \(for Entra, `authority-host`\)\. Fix: .*TROUBLESHOOTING\.md#network/,
    );
    // Without the looked-up name (another transport), the URL's host is the one named.
    expect(fixForTransport(failed('ENOTFOUND'))).toMatch(/^No such host: DNS does not know login\.example;/);
    expect(fixForTransport(failed('ENOTFOUND', 'https://login.example/t', 'proxy.corp'))).toMatch(
      /^No such host: DNS does not know proxy\.corp; check the proxy in HTTPS_PROXY\./,
    );
  });

  it('points a transient failure at the network fix alone', () => {
    expect(fixForTransport(failed('ECONNRESET'))).toMatch(/^Fix: .*TROUBLESHOOTING\.md#network\.\)$/);
  });
});
