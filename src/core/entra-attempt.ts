import type { INetworkModule, NetworkResponse } from '@azure/msal-node';
import type { CachedAssertion } from './assertion.js';
import { classifyHttpFailure } from './assertion.js';
import { malformedAnswer, parseJson, tokenAnswerProblem } from './entra-answer.js';
import { entraCode, parseEntraError, TRANSIENT_ENTRA_CODES } from './entra-errors.js';
import { ExoLoginError, HttpStatusError, TransportError } from './errors.js';
import { ENDPOINTS, type HttpRequest, type HttpResponse, type HttpSend } from './http.js';
import {
  retryAfterVerdict,
  timeoutWithin,
  type RetryClock,
  type RetryPolicy,
  type Verdict,
} from './retry.js';
import type { ResolvedSettings } from './settings.js';

/** One attempt at Entra's token endpoint: what it saw, and the network hook MSAL sends through. */

/** What one resource's token request needs besides MSAL. */
export interface EntraExchange {
  settings: ResolvedSettings;
  assertion: CachedAssertion;
  send: HttpSend;
  now: () => number;
  /** Per-request timeout. */
  timeoutMs: number;
  retryPolicy?: RetryPolicy | undefined;
  clock?: RetryClock | undefined;
  onRetry?: ((message: string) => void) | undefined;
}

/** A token Entra issued, checked for shape. */
export interface EntraToken {
  accessToken: string;
  expiresOn: Date;
}

/** What the current attempt's last Entra exchange produced. */
export interface Observation {
  response?: HttpResponse;
  transport?: TransportError;
  /** A 2xx answer that is not a token answer. */
  malformed?: ExoLoginError;
}

export const isOk = (status: number): boolean => status >= 200 && status <= 299;
/**
 * Owns what MSAL's requests leave behind for one attempt: the last exchange (to classify and explain a failure
 * with Entra's own answer) and the attempt's deadline (each request's timeout is cut to it).
 */
export class AttemptRecorder {
  last: Observation = {};
  private deadline = Infinity;

  constructor(private readonly exchange: EntraExchange) {}

  start(deadline: number): void {
    this.last = {};
    this.deadline = deadline;
  }

  timeoutMs(): number {
    return timeoutWithin(this.exchange.timeoutMs, this.deadline, this.exchange.now());
  }

  classify(resource: string): Verdict {
    const { transport, response, malformed } = this.last;
    if (transport) return transport.transient ? { transient: true } : { transient: false };
    if (malformed || !response || isOk(response.status)) return { transient: false };
    const entra = parseEntraError(response.body);
    const code = entra && entraCode(entra);
    // A 400 that means "later" (AADSTS50196): honour Retry-After as for 429/5xx.
    if (code !== undefined && TRANSIENT_ENTRA_CODES.has(code))
      return retryAfterVerdict(response.headers, this.exchange.now());
    const failure = new HttpStatusError(resource, response.status, response.headers, response.body);
    return classifyHttpFailure(failure, this.exchange.now());
  }

  describe(): string {
    if (this.last.transport) return this.last.transport.errno;
    if (this.last.response) return `HTTP ${this.last.response.status}`;
    return 'error';
  }
}

/** MSAL's network hook: every request goes through `send`, and the recorder keeps what came back. */
export function networkModule(
  exchange: EntraExchange,
  recorder: AttemptRecorder,
  resource: string,
  signal: AbortSignal,
): INetworkModule {
  const sendVia = async <T>(
    method: 'GET' | 'POST',
    url: string,
    opts?: { headers?: Record<string, string>; body?: string },
  ): Promise<NetworkResponse<T>> => {
    const req: HttpRequest = {
      endpoint: ENDPOINTS.entra,
      method,
      url,
      ...(opts?.headers && { headers: opts.headers }),
      ...(opts?.body !== undefined && { body: opts.body }),
      timeoutMs: recorder.timeoutMs(),
      signal,
    };
    let response: HttpResponse;
    try {
      response = await exchange.send(req);
    } catch (error) {
      if (error instanceof TransportError) recorder.last = { transport: error };
      throw error;
    }
    recorder.last = { response };
    const body = parseJson(response.body);
    if (isOk(response.status)) {
      const problem = tokenAnswerProblem(body);
      if (problem !== undefined) {
        const malformed = malformedAnswer(
          exchange.settings.authorityHost,
          resource,
          response.status,
          problem,
        );
        recorder.last = { response, malformed };
        throw malformed;
      }
    }
    return { status: response.status, headers: response.headers, body: (body ?? {}) as T };
  };
  return {
    sendGetRequestAsync: (url, opts) => sendVia('GET', url, opts),
    sendPostRequestAsync: (url, opts) => sendVia('POST', url, opts),
  };
}
