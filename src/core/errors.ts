import { settingLabel, type SettingName } from './names.js';

/**
 * Every code an ExoLoginError can carry: stable for tests and callers, and matched by front ends (SETUP_ERRORS) and
 * workers ('token-lifetime'). AADSTS codes are Entra's own.
 */
export type ErrorCode =
  /** A setting is invalid; nothing was sent. */
  | 'input'
  /** No GitHub OIDC request variables (missing `id-token: write`). */
  | 'oidc-permission'
  /** GitHub's OIDC service refused or failed the request. */
  | 'oidc-request'
  /** GitHub's OIDC service could not be reached. */
  | 'oidc-network'
  /** ACTIONS_ID_TOKEN_REQUEST_URL is not an https:// URL. */
  | 'oidc-url'
  /** GitHub's OIDC service answered without a token. */
  | 'oidc-response'
  | 'token-file'
  | 'token-env'
  | 'assertion-format'
  /** Entra refused with an OAuth error that names no AADSTS code. */
  | 'entra'
  | `AADSTS${number}`
  | 'entra-network'
  | 'entra-http'
  /** Entra answered 2xx with something that is not a usable token answer. */
  | 'entra-response'
  | 'entra-client'
  /** Entra's tokens expire before a worker's timeout. */
  | 'token-lifetime'
  /** The Exchange admin API client (src/exchange): `exchange-<reason>` of an ExchangeApiError, or its misuse. */
  | 'exchange-not-found'
  | 'exchange-already-exists'
  | 'exchange-bad-request'
  | 'exchange-unauthorized'
  | 'exchange-forbidden'
  | 'exchange-throttled'
  | 'exchange-server'
  | 'exchange-network'
  | 'exchange-malformed'
  | 'exchange-usage'
  /** A Pulumi provider operation (src/pulumi) failed for a reason no code above names. */
  | 'pulumi';

/**
 * Errors a user can act on. `message` is one paragraph that names what to change; front ends print it
 * as-is (no stack trace).
 */
export class ExoLoginError extends Error {
  override readonly name: string = 'ExoLoginError';
  constructor(
    message: string,
    readonly code: ErrorCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An invalid input; raised before any request is sent. */
export class InputError extends ExoLoginError {
  override readonly name = 'InputError';
  constructor(
    readonly setting: SettingName,
    /** Continues the sentence started by the setting's label; values in it go through quoted(). */
    detail: string,
    options?: { withFallback?: boolean },
  ) {
    super(`${settingLabel(setting, options?.withFallback ?? true)} ${detail}`, 'input');
  }

  /** The setting's name as the user writes it. */
  get input(): string {
    return this.setting.name;
  }
}

/**
 * Why a transport failure will fail the same way on a retry: a certificate Node does not trust, a peer or URL that
 * does not speak HTTPS, a proxy refusing the tunnel.
 */
export type PermanentTransportFailure =
  'certificate' | 'wrong-host' | 'not-https' | 'proxy-refused' | 'too-large';

/**
 * What a transport failure says about its cause, for the message once retries have run out: the permanent
 * failures, plus a host name DNS did not know and a TLS handshake that failed, which may pass and so are retried.
 */
export type TransportDiagnosis = PermanentTransportFailure | 'no-such-host' | 'tls';

/** errno of httpsSend's refusal of a non-https: URL (Node has no code for it). */
export const NOT_HTTPS = 'ERR_NOT_HTTPS';
/** errno of httpsSend's refusal of an answer longer than the request's cap. */
export const BODY_TOO_LARGE = 'ERR_BODY_TOO_LARGE';

/** Who a request goes to, so that every failure names it and its advice fits it. */
export interface Endpoint {
  /** "GitHub's OIDC service", "Entra ID", "the Exchange admin API". */
  readonly name: string;
  /** What decides its URL, named in advice: the setting or variable to check. */
  readonly configuredBy: string;
}

/** The endpoints exo-login talks to; a new client adds its own. */
export const ENDPOINTS = {
  oidc: {
    name: "GitHub's OIDC service",
    configuredBy: 'ACTIONS_ID_TOKEN_REQUEST_URL, which the runner sets',
  },
  entra: { name: 'Entra ID', configuredBy: 'the authority-host setting' },
  exchange: {
    name: 'the Exchange admin API',
    configuredBy:
      'the resources setting (exchange=https://…, compliance=https://… move it) and the environment',
  },
} as const satisfies Record<string, Endpoint>;

/** For a TransportError raised without an endpoint (a caller's own transport). */
const UNNAMED_ENDPOINT: Endpoint = { name: 'the server', configuredBy: 'the URL' };

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
    readonly endpoint: Endpoint = UNNAMED_ENDPOINT,
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
    // The certificate is valid but names another host: the URL (or DNS) is wrong, not the trust store.
    if (this.errno === 'ERR_TLS_CERT_ALTNAME_INVALID' || this.errno === 'HOSTNAME_MISMATCH')
      return 'wrong-host';
    if (isCertificateCode(this.errno)) return 'certificate';
    if (this.errno === BODY_TOO_LARGE) return 'too-large';
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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A failure's stack and its causes' (at most five deep), for a debug log; never shown otherwise. */
export function errorStack(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : errorMessage(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\ncaused by: ');
}
