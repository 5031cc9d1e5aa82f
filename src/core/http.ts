import { request, Agent } from 'node:https';
import { NOT_HTTPS, ResponseTooLargeError, TransportError } from './errors.js';

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
  timeoutMs: number;
  /** Abandons the exchange (a TransportError with errno ABORT_ERR), e.g. once the caller has failed anyway. */
  signal?: AbortSignal;
  /** Fails with ResponseTooLargeError once the body exceeds this many bytes, so a server cannot exhaust memory. */
  maxResponseBytes?: number;
}

export type HttpSend = (req: HttpRequest) => Promise<HttpResponse>;

// Keep-alive lets a retry or a second resource reuse the TLS session instead of a new handshake.
// proxyEnv: self-hosted runners behind a proxy get HTTPS_PROXY / NO_PROXY from the runner, and
// @actions/http-client honours them, so we do too (Node's built-in tunnelling, Node >= 24.5; older Node
// ignores the option and connects directly).
const agent = new Agent({ keepAlive: true, maxSockets: 16, proxyEnv: process.env });

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
 * One HTTPS exchange on node:https (cheaper to load than fetch/undici). No retries here: see retry.ts.
 * The timeout covers the whole exchange, so a server that accepts and never answers cannot stall us.
 */
export const httpsSend: HttpSend = (req) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const url = new URL(req.url);
    if (url.protocol !== 'https:') {
      reject(new TransportError(`refusing non-HTTPS URL ${redactUrl(url)}`, redactUrl(url), NOT_HTTPS));
      return;
    }
    if (req.signal?.aborted) {
      reject(new TransportError(`request abandoned (${redactUrl(url)})`, redactUrl(url), 'ABORT_ERR'));
      return;
    }
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const outgoing = request(url, { method: req.method, headers, agent }, (res) => {
      // A server may answer before it has read the whole request; then 'finish' may never come.
      uncount();
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (req.maxResponseBytes !== undefined && received > req.maxResponseBytes) {
          settle();
          res.destroy();
          outgoing.destroy();
          reject(new ResponseTooLargeError(redactUrl(url), res.statusCode ?? 0, req.maxResponseBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => {
        fail(err);
      });
      res.on('end', () => {
        settle();
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    // Counted only once request() has not thrown: every path below ends in exactly one uncount.
    unsent++;
    let counted = true;
    const uncount = (): void => {
      if (counted) sentOrFailed();
      counted = false;
    };
    const fail = (err: Error & { code?: string; statusCode?: number; hostname?: unknown }): void => {
      settle();
      uncount();
      outgoing.destroy();
      const proxyStatus = err.code === 'ERR_PROXY_TUNNEL' ? err.statusCode : undefined;
      const lookupHost =
        err.code === 'ENOTFOUND' && typeof err.hostname === 'string' ? err.hostname : undefined;
      reject(
        new TransportError(
          `${redactCredentials(err.message)} (${redactUrl(url)})`,
          redactUrl(url),
          err.code ?? 'EUNKNOWN',
          proxyStatus,
          lookupHost,
        ),
      );
    };
    const timer = setTimeout(() => {
      const err: Error & { code?: string } = new Error(`no response within ${req.timeoutMs} ms`);
      err.code = 'ETIMEDOUT';
      fail(err);
    }, req.timeoutMs);
    const abandon = (): void => {
      const err: Error & { code?: string } = new Error('request abandoned');
      err.code = 'ABORT_ERR';
      fail(err);
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
