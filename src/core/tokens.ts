import type { FederatedTokenSource } from './assertion.js';
import type { EnvironmentName, ResourceKind } from './clouds.js';
import type { HttpSend } from './http.js';
import { audienceClaim, decodeJwtClaims, rolesClaim, stringClaim } from './jwt.js';
import type { RetryClock, RetryPolicy } from './retry.js';
import type { SettingsInput } from './settings.js';

/** What a session hands out and what it needs: the library's public types. */

/** Claims of an access token that are safe to print. */
export interface TokenClaims {
  tenantId: string | undefined;
  appId: string | undefined;
  objectId: string | undefined;
  audience: string | undefined;
  roles: string[];
}

export interface AccessToken {
  kind: ResourceKind;
  resource: string;
  /** Secret. */
  token: string;
  expiresOn: Date;
  claims: TokenClaims;
}

export interface ExoTokens {
  environment: EnvironmentName;
  /** Tenant GUID from the token's `tid` (falls back to the configured tenant). */
  tenantId: string;
  organization: string | undefined;
  tokens: Partial<Record<ResourceKind, AccessToken>>;
  /** Earliest expiry among the tokens. */
  expiresOn: Date;
  /** Problems that do not stop the token from being issued, e.g. a missing Exchange.ManageAsApp role. */
  warnings: string[];
}

/** What a session needs besides its settings: the federated token, hooks, and injectable I/O. */
export interface SessionDeps {
  /** Source of the federated token presented to Entra. */
  assertion: FederatedTokenSource;
  /** Called with every secret (federated token, access tokens) as soon as it exists, before anything can print it. */
  onSecret?: (secret: string) => void;
  /** Called with a one-line message before each retry. */
  onRetry?: (message: string) => void;
  /** Per-request timeout. */
  timeoutMs?: number;
  retryPolicy?: RetryPolicy;
  clock?: RetryClock;
  /** HTTPS transport; injectable for embedding, defaults to node:https. */
  send?: HttpSend;
}

/** The library's options: raw settings (validated with the library's field names) and the session's needs. */
export interface ExoLoginOptions extends SettingsInput, SessionDeps {
  /** Connect-ExchangeOnline -ExchangeEnvironmentName value; default O365Default. */
  environment?: string;
  /** Audience of the federated token; default: the cloud's recommended value. */
  audience?: string;
  /** Entra host[:port]; default: the cloud's. */
  authorityHost?: string;
}

export function claimsOf(token: string): TokenClaims {
  const claims = decodeJwtClaims(token);
  return {
    tenantId: stringClaim(claims, 'tid'),
    appId: stringClaim(claims, 'appid') ?? stringClaim(claims, 'azp'),
    objectId: stringClaim(claims, 'oid'),
    audience: audienceClaim(claims),
    roles: rolesClaim(claims),
  };
}
