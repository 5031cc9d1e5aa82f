import { ExoLoginError } from './errors.js';
import { decodeJwtClaims } from './jwt.js';
import { quoted } from './names.js';

/** What Entra's token endpoint answers, checked before MSAL reads it: MSAL trusts its shape. */

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Entra's access tokens live 60–90 minutes by default and at most a day (configurable lifetimes). */
const MAX_EXPIRES_IN_SECONDS = 86_400;

/** Why a 2xx body is not an Entra token answer (a JWT access_token, a sane expires_in); undefined when it is one. */
export function tokenAnswerProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body is not a JSON object';
  const { access_token: token, expires_in: expiresIn } = body as Record<string, unknown>;
  if (token === undefined) return 'it has no access_token';
  if (typeof token !== 'string') return `access_token is ${describeType(token)}, not a string`;
  if (!JWT_SHAPE.test(token) || decodeJwtClaims(token) === undefined) return 'access_token is not a JWT';
  const seconds = typeof expiresIn === 'string' && /^\d+$/.test(expiresIn) ? Number(expiresIn) : expiresIn;
  if (
    typeof seconds !== 'number' ||
    !Number.isInteger(seconds) ||
    seconds < 1 ||
    seconds > MAX_EXPIRES_IN_SECONDS
  ) {
    const shown = typeof expiresIn === 'string' ? quoted(expiresIn) : describeType(expiresIn);
    return `expires_in is ${shown}, not a whole number of seconds from 1 to ${MAX_EXPIRES_IN_SECONDS}`;
  }
  return undefined;
}

function describeType(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function malformedAnswer(
  host: string,
  resource: string,
  status: number,
  problem: string,
): ExoLoginError {
  return new ExoLoginError(
    `Entra ID at ${host} answered the token request for ${resource} with HTTP ${status} but a malformed answer: ${problem}. Entra always answers with a JWT access_token and a whole expires_in, so this answer came from something else at that address, or Entra failed on its side. Check authority-host and any proxy in between; if both are right, re-run later.`,
    'entra-response',
  );
}

/** The Entra endpoint metadata handed to MSAL so it never fetches discovery documents. */
export function authorityMetadata(host: string, tenant: string): string {
  const base = `https://${host}/${tenant}`;
  return JSON.stringify({
    token_endpoint: `${base}/oauth2/v2.0/token`,
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  });
}
