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

/** A network-level failure (reset, timeout, DNS, proxy) that never produced an HTTP response. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly url: string,
    readonly errno: string,
    /** The HTTP status with which an HTTPS_PROXY refused the CONNECT tunnel, when that is what failed. */
    readonly proxyStatus?: number,
  ) {
    super(message);
  }

  /** A proxy refusing the tunnel with a 4xx (407 credentials, 403 policy) answers the same way on a retry. */
  get transient(): boolean {
    const status = this.proxyStatus;
    return status === undefined || status >= 500 || status === 408 || status === 429;
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
