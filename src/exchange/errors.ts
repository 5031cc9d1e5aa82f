/**
 * The admin API's failures as typed errors. The server's message is read by the documented precedence
 * (innererror.internalexception.message, details[0].message — JSON or `ErrorId|Type|Message` —, error.message,
 * the raw body), cleaned so that no server text can break a log line or pose as a workflow command.
 */
import { ExoLoginError } from '../core/errors.js';
import { escapeLegacyCommand } from '../core/workflow-commands.js';

export type ExchangeErrorReason =
  | 'not-found'
  | 'already-exists'
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'throttled'
  | 'server'
  | 'network'
  | 'malformed';

export class ExchangeApiError extends ExoLoginError {
  override readonly name = 'ExchangeApiError';
  constructor(
    message: string,
    readonly cmdlet: string,
    readonly status: number | undefined,
    readonly reason: ExchangeErrorReason,
    readonly exceptionType: string | undefined,
    /** What the server said (cleaned), or what went wrong when it said nothing usable. */
    readonly serverMessage: string,
    readonly clientRequestId: string,
    readonly requestId: string | undefined,
    /** Set when another attempt may succeed; the wait the server asked for, if any. */
    readonly retry?: { retryAfterMs?: number },
    options?: ErrorOptions,
  ) {
    super(message, `exchange-${reason}` as const, options);
  }
}

export interface ServerError {
  message: string;
  exceptionType: string | undefined;
}

/** The concurrency throttle's text, whatever the status and body shape it comes in. */
export const CONCURRENCY_MESSAGE = 'maximum number of concurrent requests per tenant';
export const PAGINATION_MESSAGE = 'Expired or Invalid pagination request';

/**
 * One line of at most `max` characters: control characters (newlines, ESC, NUL) become spaces, and `##[` (the
 * runner's legacy command form, found anywhere in a line) is escaped by core/workflow-commands.
 */
export function cleanText(text: string, max = 2000): string {
  const flat = escapeLegacyCommand(
    // eslint-disable-next-line no-control-regex -- removing them is the point
    text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' '),
  ).trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The server's message and exception type by the documented precedence. */
export function parseServerError(body: string): ServerError {
  const { message, exceptionType } = readServerError(body);
  // The type is server text too, printed in every message: one line like the message.
  return { message, exceptionType: exceptionType === undefined ? undefined : cleanText(exceptionType, 200) };
}

function readServerError(body: string): ServerError {
  const error = parseErrorObject(body);
  if (!error) return { message: describeRawBody(body), exceptionType: undefined };
  const inner = record(error['innererror']);
  const internal = record(inner?.['internalexception']) ?? record(inner?.['internalException']);
  const internalMessage = str(internal?.['message']);
  if (internalMessage) return { message: cleanText(internalMessage), exceptionType: str(internal?.['type']) };
  const details = Array.isArray(error['details']) ? (error['details'] as unknown[]) : [];
  const detail = str(record(details[0])?.['message']);
  if (detail) return parseDetail(detail, str(inner?.['type']));
  const message = str(error['message']) ?? str(inner?.['message']);
  if (message) return { message: cleanText(message), exceptionType: str(inner?.['type']) };
  return { message: describeRawBody(body), exceptionType: undefined };
}

/** details[0].message: JSON `{Message, TypeName}`, `ErrorId|ExceptionType|Message`, or plain text. */
function parseDetail(detail: string, fallbackType: string | undefined): ServerError {
  try {
    const parsed = record(JSON.parse(detail));
    const message = str(parsed?.['Message']);
    if (message)
      return { message: cleanText(message), exceptionType: str(parsed?.['TypeName']) ?? fallbackType };
  } catch {
    // not JSON: one of the other forms
  }
  const pipe = /^([^|\s]+)\|([\w.`[\]]+)\|([\s\S]*)$/.exec(detail);
  if (pipe) return { message: cleanText(pipe[3] ?? ''), exceptionType: pipe[2] };
  return { message: cleanText(detail), exceptionType: fallbackType };
}

function parseErrorObject(body: string): Record<string, unknown> | undefined {
  try {
    return record(record(JSON.parse(body))?.['error']);
  } catch {
    return undefined;
  }
}

/** A body that is not an OData error: NUL bytes (403 without a role), an HTML gateway page, plain text. */
function describeRawBody(body: string): string {
  if (body === '') return '(empty body)';
  // eslint-disable-next-line no-control-regex -- a body of NUL bytes is what the service sends for a 403
  if (/^\u0000+$/.test(body)) return `(a body of ${body.length} NUL bytes)`;
  if (/^\s*<(!doctype|html)/i.test(body)) {
    const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1] ?? /<h1>([^<]*)<\/h1>/i.exec(body)?.[1];
    return `(an HTML page${title ? `: ${cleanText(title, 200)}` : ''})`;
  }
  return cleanText(body, 500);
}

/** What kind of failure an HTTP answer is. */
export function reasonFor(status: number, server: ServerError, body: string): ExchangeErrorReason {
  const type = server.exceptionType ?? '';
  if (status === 429 || body.includes(CONCURRENCY_MESSAGE)) return 'throttled';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404 || /ManagementObjectNotFoundException|ObjectNotFound/.test(type)) return 'not-found';
  if (/AlreadyExists/.test(type) || /already exists/i.test(server.message)) return 'already-exists';
  if (status >= 500) return 'server';
  if (status >= 400) return 'bad-request';
  return 'malformed';
}

/** The short name of an exception type, for messages: ManagementObjectNotFoundException. */
export function shortType(type: string | undefined): string | undefined {
  return type?.split('.').pop();
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
