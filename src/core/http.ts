import type { IncomingMessage } from 'node:http';
import { request, Agent } from 'node:https';
import { BODY_TOO_LARGE, NOT_HTTPS, TransportError, type Endpoint } from './errors.js';

export { ENDPOINTS, type Endpoint } from './errors.js';

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
}

/** Largest answer body read by default: a token answer is a few KiB, so 1 MiB is generous. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface HttpRequest {
  /** Who is asked: named in every failure, and chooses the advice (see ENDPOINTS). */
  endpoint: Endpoint;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
  timeoutMs: number;
  /** The exchange fails (errno ERR_BODY_TOO_LARGE) once the answer's body passes this; default 1 MiB. */
  maxResponseBytes?: number;
  /** Abandons the exchange (a TransportError with errno ABORT_ERR), e.g. once the caller has failed anyway. */
  signal?: AbortSignal;
}

export type HttpSend = (req: HttpRequest) => Promise<HttpResponse>;

/**
 * A connection pool. Keep-alive lets a retry or a second resource reuse the TLS session instead of a new
 * handshake. proxyEnv: self-hosted runners behind a proxy get HTTPS_PROXY / NO_PROXY from the runner, and
 * @actions/http-client honours them, so we do too (Node's built-in tunnelling, Node >= 24.5; older Node
 * ignores the option and connects directly).
 */
export function httpsAgent(proxyEnv: NodeJS.ProcessEnv = process.env): Agent {
  return new Agent({ keepAlive: true, maxSockets: 16, proxyEnv });
}

const agent = httpsAgent();

// Requests handed to httpsSend but not yet written to a connected socket (see requestsSent).
let unsent = 0;
let onAllSent: (() => void)[] = [];

/**
 * Resolves once every request in flight is on the wire. Heavy synchronous work (compiling MSAL) waits for
 * this, so it overlaps the wait for an answer instead of holding up the connection and TLS handshake.
 */
export function requestsSent(): Promise<void> {
  return unsent === 0 ? Promise.resolve() : new Promise((resolve) => onAllSent.push(resolve));
}

function sentOrFailed(): void {
  if (--unsent > 0) return;
  const waiting = onAllSent;
  onAllSent = [];
  for (const resolve of waiting) resolve();
}

/**
 * One HTTPS exchange on node:https (cheaper to load than fetch/undici) through `pool`. No retries here: see
 * retry.ts. The timeout covers the whole exchange, so a server that accepts and never answers cannot stall us,
 * and the body is counted as it arrives, so one that answers without end cannot exhaust memory.
 */
export function createHttpsSend(pool: Agent): HttpSend {
  return (req) => send(pool, req);
}

/** The shared pool's transport, honouring HTTPS_PROXY / NO_PROXY from process.env. */
export const httpsSend: HttpSend = createHttpsSend(agent);

type NodeError = Error & { code?: string; statusCode?: number; hostname?: unknown };

function codedError(message: string, code: string): NodeError {
  const err: NodeError = new Error(message);
  err.code = code;
  return err;
}

/** Our refusal to send at all: a non-https: URL, or a signal that has already aborted. */
function refusal(url: URL, req: HttpRequest): TransportError | undefined {
  const at = redactUrl(url);
  const failure = (message: string, errno: string): TransportError =>
    new TransportError(message, at, errno, undefined, undefined, req.endpoint);
  if (url.protocol !== 'https:') return failure(`refusing non-HTTPS URL ${at}`, NOT_HTTPS);
  if (req.signal?.aborted) return failure(`request abandoned (${at})`, 'ABORT_ERR');
  return undefined;
}

/** Node's error as a TransportError naming the endpoint, with the proxy's status or the name DNS looked up. */
function transportError(err: NodeError, url: URL, endpoint: Endpoint): TransportError {
  const proxyStatus = err.code === 'ERR_PROXY_TUNNEL' ? err.statusCode : undefined;
  const lookupHost = err.code === 'ENOTFOUND' && typeof err.hostname === 'string' ? err.hostname : undefined;
  return new TransportError(
    `${redactCredentials(err.message)} (${redactUrl(url)})`,
    redactUrl(url),
    err.code ?? 'EUNKNOWN',
    proxyStatus,
    lookupHost,
    endpoint,
  );
}

/**
 * Reads the body, counting bytes as they arrive: a declared length over `maxBody` fails before a byte is read,
 * and a streamed one as soon as it passes it, so memory stays bounded whatever the server sends.
 */
function collectBody(
  res: IncomingMessage,
  maxBody: number,
  fail: (err: NodeError) => void,
  done: (response: HttpResponse) => void,
): void {
  const tooLarge = (): void => {
    fail(codedError(`answer larger than ${maxBody} bytes, the most accepted from it`, BODY_TOO_LARGE));
  };
  if (Number(res.headers['content-length'] ?? 0) > maxBody) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  let over = false;
  res.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received <= maxBody) chunks.push(chunk);
    else if (!over) {
      over = true;
      tooLarge();
    }
  });
  res.on('error', fail);
  res.on('end', () => {
    if (over) return;
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    done({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
  });
}

const send = (pool: Agent, req: HttpRequest): Promise<HttpResponse> =>
  new Promise<HttpResponse>((resolve, reject) => {
    const url = new URL(req.url);
    const refused = refusal(url, req);
    if (refused) {
      reject(refused);
      return;
    }
    const maxBody = req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    let failed = false;
    const outgoing = request(url, { method: req.method, headers, agent: pool }, (res) => {
      // A server may answer before it has read the whole request; then 'finish' may never come.
      uncount();
      collectBody(res, maxBody, fail, (response) => {
        if (failed) return;
        settle();
        resolve(response);
      });
    });
    // Counted only once request() has not thrown: every path below ends in exactly one uncount.
    unsent++;
    let counted = true;
    const uncount = (): void => {
      if (counted) sentOrFailed();
      counted = false;
    };
    const fail = (err: NodeError): void => {
      if (failed) return;
      failed = true;
      settle();
      uncount();
      outgoing.destroy();
      reject(transportError(err, url, req.endpoint));
    };
    const timer = setTimeout(() => {
      fail(codedError(`no response within ${req.timeoutMs} ms`, 'ETIMEDOUT'));
    }, req.timeoutMs);
    const abandon = (): void => {
      fail(codedError('request abandoned', 'ABORT_ERR'));
    };
    req.signal?.addEventListener('abort', abandon, { once: true });
    // Neither the timer nor the listener may outlive the exchange: the timer would hold the process open.
    const settle = (): void => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', abandon);
    };
    outgoing.on('error', fail);
    outgoing.once('finish', uncount);
    outgoing.end(req.body);
  });

/** A URL fit for messages: no query string (the OIDC request URL's query is not secret, but keep logs tidy). */
export function redactUrl(url: URL | string): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.origin}${u.pathname}`;
}

/** Node's proxy errors quote the HTTPS_PROXY URL whole, password included: keep user:password out of logs. */
export function redactCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

/** Ends idle keep-alive sockets so a CLI or the action's process can exit promptly. */
export function closeIdleConnections(): void {
  agent.destroy();
}
