/**
 * Errors a user can act on. `message` is one paragraph that names what to change; front ends print it
 * as-is (no stack trace).
 */
export class ExoLoginError extends Error {
  override readonly name: string = 'ExoLoginError';
  constructor(
    message: string,
    /** Stable identifier for tests and callers, e.g. 'input', 'oidc-permission', 'entra'. */
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An invalid input; raised before any request is sent. */
export class InputError extends ExoLoginError {
  override readonly name = 'InputError';
  constructor(
    readonly input: string,
    detail: string,
  ) {
    super(`${describeInput(input)} ${detail}`, 'input');
  }
}

/** "Input 'tenant-id'" for the action and library; "Option --tenant-id" and "Argument SCRIPT" for the CLI. */
export function describeInput(input: string): string {
  if (input.startsWith('-')) return `Option ${input}`;
  if (/^[A-Z]+$/.test(input)) return `Argument ${input}`;
  return `Input '${input}'`;
}

/**
 * Why a transport failure will fail the same way on a retry: a certificate Node does not trust, a peer or URL that
 * does not speak HTTPS, a proxy refusing the tunnel.
 */
export type PermanentTransportFailure = 'certificate' | 'not-https' | 'proxy-refused';

/**
 * What a transport failure says about its cause, for the message once retries have run out: the permanent
 * failures, plus a host name DNS did not know and a TLS handshake that failed, which may pass and so are retried.
 */
export type TransportDiagnosis = PermanentTransportFailure | 'no-such-host' | 'tls';

/** errno of httpsSend's refusal of a non-https: URL (Node has no code for it). */
export const NOT_HTTPS = 'ERR_NOT_HTTPS';

// OpenSSL's reading of a plain-HTTP (or other non-TLS) answer as a TLS record: "wrong version number", or with
// OpenSSL 3.2+ (Node 24) "packet length too long" for an answer starting "HTTP/1.1".
const NOT_TLS_PEER = /wrong version number|packet length too long/;

// Node and OpenSSL certificate verification codes; nearly all contain CERT (CERT_HAS_EXPIRED,
// SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID, ...). These do not.
const CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CRL_SIGNATURE_FAILURE',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
]);

export function isCertificateCode(code: string): boolean {
  return code.includes('CERT') || CERTIFICATE_CODES.has(code);
}

/** A network-level failure (reset, timeout, DNS, TLS, proxy) that never produced an HTTP response. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly url: string,
    readonly errno: string,
    /** The HTTP status with which an HTTPS_PROXY refused the CONNECT tunnel, when that is what failed. */
    readonly proxyStatus?: number,
    /** The name DNS looked up, when that failed: the URL's host or, behind HTTPS_PROXY, the proxy's. */
    readonly lookupHost?: string,
  ) {
    super(message);
  }

  /** Set when retrying cannot help; resets, timeouts, DNS failures and failed handshakes can pass. */
  get permanent(): PermanentTransportFailure | undefined {
    const diagnosis = this.diagnosis;
    return diagnosis === 'no-such-host' || diagnosis === 'tls' ? undefined : diagnosis;
  }

  /** What to tell the user about this failure when it is the last one; undefined for a generic network failure. */
  get diagnosis(): TransportDiagnosis | undefined {
    const status = this.proxyStatus;
    // A proxy refusing the tunnel with a 4xx (407 credentials, 403 policy) answers the same way on a retry.
    if (status !== undefined) {
      return status >= 500 || status === 408 || status === 429 ? undefined : 'proxy-refused';
    }
    if (isCertificateCode(this.errno)) return 'certificate';
    // Retried all the same: on hosted runners a DNS blip can surface as ENOTFOUND, not only as EAI_AGAIN.
    if (this.errno === 'ENOTFOUND') return 'no-such-host';
    if (this.errno === NOT_HTTPS) return 'not-https';
    if (this.errno === 'EPROTO') {
      // A peer on the port that does not speak TLS; any other EPROTO is a handshake that failed (a TLS-inspecting
      // middlebox, no common protocol version or cipher), which may be passing trouble.
      return NOT_TLS_PEER.test(this.message) ? 'not-https' : 'tls';
    }
    return undefined;
  }

  get transient(): boolean {
    return this.permanent === undefined;
  }

  /** host[:port] the request went to. */
  get host(): string {
    try {
      return new URL(this.url).host;
    } catch {
      return this.url;
    }
  }
}

/** An HTTP response with a non-2xx status, kept whole so callers can classify and explain it. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly body: string,
  ) {
    super(`HTTP ${status} from ${url}`);
  }
}

/** A response body larger than the caller allows (HttpRequest.maxResponseBytes); not worth a retry. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly limitBytes: number,
  ) {
    super(`the answer from ${url} (HTTP ${status}) is larger than ${limitBytes} bytes`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
