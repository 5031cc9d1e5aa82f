import { describe, expect, it } from 'vitest';
import { classifyHttpFailure } from '../../src/core/assertion.js';
import { TransportError } from '../../src/core/errors.js';
import { ENDPOINTS, redactCredentials, type Endpoint } from '../../src/core/http.js';
import { explainTransport, fixForTransport } from '../../src/core/troubleshooting.js';

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
    message = 'x',
    endpoint: Endpoint = ENDPOINTS.entra,
  ) => new TransportError(message, url, errno, undefined, lookupHost, endpoint);

  // What Node 24 (OpenSSL 3.5) reports for an https:// URL on a port that speaks plain HTTP or something else.
  const httpPeer =
    'write EPROTO C02C2716B47F0000:error:0A0000C6:SSL routines:tls_get_more_records:packet length too long:../deps/openssl/openssl/ssl/record/methods/tls_common.c:662:\n (https://login.example:8443/t)';
  const otherPeer =
    'write EPROTO C02C2716B47F0000:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number:../deps/openssl/openssl/ssl/record/methods/tlsany_meth.c:84:\n (https://login.example:8443/t)';
  // A handshake the server (or a middlebox) refused: no common protocol version or cipher.
  const handshake =
    'write EPROTO C05CA2866D7F0000:error:0A000410:SSL routines:ssl3_read_bytes:ssl/tls alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:916:SSL alert number 40\n (https://login.example:8443/t)';

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
    // Our refusal of an http:// URL.
    ['ERR_NOT_HTTPS', false],
    // Everything that can pass, including ENOTFOUND (a DNS blip on a hosted runner can look like one) and a
    // failed TLS handshake.
    ['ENOTFOUND', true],
    ['EPROTO', true],
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
      /^No such host: DNS does not know login\.example; check the authority-host setting\. Fix: .*TROUBLESHOOTING\.md#network/,
    );
    // Without the looked-up name (another transport), the URL's host is the one named.
    expect(fixForTransport(failed('ENOTFOUND'))).toMatch(/^No such host: DNS does not know login\.example;/);
    expect(fixForTransport(failed('ENOTFOUND', 'https://login.example/t', 'proxy.corp'))).toMatch(
      /^No such host: DNS does not know proxy\.corp; check the proxy in HTTPS_PROXY\./,
    );
  });

  it('tells a peer that does not speak TLS, which no retry fixes, from a failed handshake, which may pass', () => {
    for (const message of [httpPeer, otherPeer]) {
      const error = failed('EPROTO', undefined, undefined, message);
      expect(error.permanent).toBe('not-https');
      expect(classifyHttpFailure(error, 0)).toEqual({ transient: false });
      expect(fixForTransport(error)).toMatch(
        /^login\.example:8443 must be reached over HTTPS \(an https:\/\/ URL, a port that speaks TLS\); check the authority-host setting\. Fix: .*TROUBLESHOOTING\.md#network/,
      );
    }
    const refused = failed('EPROTO', undefined, undefined, handshake);
    expect(refused.permanent).toBeUndefined();
    expect(classifyHttpFailure(refused, 0)).toEqual({ transient: true });
    const fix = fixForTransport(refused);
    expect(fix).toMatch(
      /^The TLS handshake with login\.example:8443 failed \(EPROTO\): a TLS-inspecting proxy or firewall in between, or no protocol version or cipher both sides accept\. Fix: .*TROUBLESHOOTING\.md#network/,
    );
    expect(fix).not.toContain('HTTPS (an https://');
    // Our own refusal is recognised by its errno, whatever the message.
    expect(fixForTransport(failed('ERR_NOT_HTTPS', 'http://login.example:8443/t'))).toMatch(
      /^login\.example:8443 must be reached over HTTPS/,
    );
  });

  it('retries a host DNS does not know, and still names it once retries run out', () => {
    const error = failed('ENOTFOUND', 'https://login.example/t', 'login.example');
    expect(error.permanent).toBeUndefined();
    expect(error.diagnosis).toBe('no-such-host');
    expect(fixForTransport(error)).toMatch(/^No such host: DNS does not know login\.example;/);
  });

  it('names the endpoint and its own setting, never Entra advice for GitHub (issue 9.9)', () => {
    const oidc = (errno: string, message = 'x') =>
      failed(errno, 'https://pipelines.actions.example/idtoken', undefined, message, ENDPOINTS.oidc);
    for (const errno of ['ECONNRESET', 'ERR_NOT_HTTPS', 'ENOTFOUND', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      const text = explainTransport(oidc(errno, 'read ECONNRESET'));
      expect(text, errno).toMatch(/^Cannot reach GitHub's OIDC service at pipelines\.actions\.example: /);
      expect(text, errno).toContain('ACTIONS_ID_TOKEN_REQUEST_URL');
      expect(text, errno).not.toMatch(/check the authority-host/);
    }
    expect(explainTransport(failed('ECONNRESET', undefined, undefined, 'read ECONNRESET'))).toMatch(
      /^Cannot reach Entra ID at login\.example:8443: read ECONNRESET\. Check that the runner reaches login\.example:8443, which the authority-host setting names for Entra ID\. Fix: /,
    );
  });

  it('explains a certificate for another host as the wrong host, not a CA to trust (issue 9.9)', () => {
    const error = failed('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(error.diagnosis).toBe('wrong-host');
    expect(error.transient).toBe(false);
    const fix = fixForTransport(error);
    expect(fix).toMatch(
      /^The TLS certificate of login\.example:8443 is for another host name \(ERR_TLS_CERT_ALTNAME_INVALID\): this is the wrong host for Entra ID; check the authority-host setting\./,
    );
    expect(fix).toContain('TROUBLESHOOTING.md#wrong-host');
    expect(fix).not.toContain('NODE_EXTRA_CA_CERTS');
    expect(fixForTransport(failed('ERR_BODY_TOO_LARGE'))).toMatch(
      /^No answer of Entra ID is that long: something else answered at login\.example:8443/,
    );
  });

  it('points a transient failure at the network fix alone', () => {
    expect(fixForTransport(failed('ECONNRESET'))).toMatch(
      /^Check that the runner reaches login\.example:8443, which the authority-host setting names for Entra ID\. Fix: .*TROUBLESHOOTING\.md#network\.\)$/,
    );
  });
});
