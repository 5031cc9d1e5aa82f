/**
 * Reads a JWT's claims without verifying it: only for diagnostics (which subject GitHub presented, which roles
 * Entra granted) and expiry. Never returns or logs the token itself.
 */
export type JwtClaims = Readonly<Record<string, unknown>>;

export function decodeJwtClaims(token: string): JwtClaims | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as JwtClaims)
      : undefined;
  } catch {
    return undefined;
  }
}

export function stringClaim(claims: JwtClaims | undefined, name: string): string | undefined {
  const value = claims?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function numberClaim(claims: JwtClaims | undefined, name: string): number | undefined {
  const value = claims?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `aud` may be a string or an array of strings. */
export function audienceClaim(claims: JwtClaims | undefined): string | undefined {
  const value = claims?.['aud'];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string').join(', ');
  return undefined;
}

export function rolesClaim(claims: JwtClaims | undefined): string[] {
  const value = claims?.['roles'];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Expiry as a Date, from `exp` (seconds since the epoch). */
export function expiryOf(claims: JwtClaims | undefined): Date | undefined {
  const exp = numberClaim(claims, 'exp');
  return exp === undefined ? undefined : new Date(exp * 1000);
}
