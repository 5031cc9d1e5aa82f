/**
 * JWTs for tests. `unsignedJwt` is for code that only reads claims (diagnostics, expiry); `signedJwt` is a real
 * RS256 token for the stand-ins that verify signatures. The emulator signs with its own keys (test/emulator/jwt.ts).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** header.claims.signature with a placeholder signature: a JWT in shape only. */
export function unsignedJwt(claims: unknown, header: Record<string, unknown> = { alg: 'RS256' }): string {
  return `${part(header)}.${part(claims)}.c2ln`;
}

let keys: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

/** One key for the whole test process: RSA generation is the slow part. */
export function testSigningKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return (keys ??= generateKeyPairSync('rsa', { modulusLength: 2048 }));
}

/** A real RS256 JWT, verifiable with testSigningKey().publicKey. */
export function signedJwt(claims: Record<string, unknown>): string {
  const body = `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${sign('sha256', Buffer.from(body), testSigningKey().privateKey).toString('base64url')}`;
}
