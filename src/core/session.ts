import { CachedAssertion } from './assertion.js';
import { EXCHANGE_MANAGE_AS_APP_ROLE, type ResourceKind } from './clouds.js';
import { requestToken, type EntraExchange } from './entra.js';
import { ExoLoginError } from './errors.js';
import { httpsSend, requestsSent } from './http.js';
import { audienceClaim, decodeJwtClaims, expiryOf, stringClaim } from './jwt.js';
import { organizationWarning, resolveSettings, type ResolvedSettings } from './settings.js';
import {
  claimsOf,
  type AccessToken,
  type ExoLoginOptions,
  type ExoTokens,
  type SessionDeps,
} from './tokens.js';

export {
  claimsOf,
  type AccessToken,
  type ExoLoginOptions,
  type ExoTokens,
  type SessionDeps,
  type TokenClaims,
} from './tokens.js';
import { TROUBLES, fixFor } from './troubleshooting.js';
import type { ResourceRequest } from './validate.js';

type Msal = typeof import('@azure/msal-node');
let msalModule: Promise<Msal> | undefined;
const loadMsal = (): Promise<Msal> => (msalModule ??= import('@azure/msal-node'));

/**
 * One tenant/app/cloud: mints Exchange Online (and optional Security & Compliance / Graph) tokens, and mints
 * again when a caller needs tokens valid for longer than the current ones (long-running workers).
 */
export class ExoLoginSession {
  readonly settings: ResolvedSettings;
  private readonly deps: SessionDeps;
  private readonly assertion: CachedAssertion;
  private current: ExoTokens | undefined;
  private minting: Promise<ExoTokens> | undefined;

  /** Validates `options` with the library's field names; front ends resolve first and use fromSettings. */
  constructor(options: ExoLoginOptions);
  constructor(deps: SessionDeps, settings: ResolvedSettings);
  constructor(deps: ExoLoginOptions | SessionDeps, settings?: ResolvedSettings) {
    this.settings = settings ?? resolveSettings(deps as ExoLoginOptions);
    this.deps = deps;
    const onSecret = deps.onSecret ?? (() => undefined);
    this.assertion = new CachedAssertion(deps.assertion, this.settings.audience, onSecret, () => this.now());
  }

  /** A session for settings a front end has already resolved, with their names and sources. */
  static fromSettings(settings: ResolvedSettings, deps: SessionDeps): ExoLoginSession {
    return new ExoLoginSession(deps, settings);
  }

  private now(): number {
    return (this.deps.clock ?? { now: Date.now }).now();
  }

  /** Federated tokens fetched so far: one per mint, and more when a retry found the cached one near expiry. */
  get assertionFetches(): number {
    return this.assertion.fetches;
  }

  /** Where the federated token comes from, e.g. "token file /var/run/…": not secret. */
  get sourceDescription(): string {
    return this.assertion.description;
  }

  /** Claims of the last federated token (issuer, subject, audience): not secret, useful in logs. */
  presentedClaims(): { issuer?: string; subject?: string; audience?: string } {
    const claims =
      this.assertion.lastToken === undefined ? undefined : decodeJwtClaims(this.assertion.lastToken);
    const issuer = stringClaim(claims, 'iss');
    const subject = stringClaim(claims, 'sub');
    const audience = audienceClaim(claims);
    return { ...(issuer && { issuer }), ...(subject && { subject }), ...(audience && { audience }) };
  }

  /** Mints a new set of tokens now: one Entra request per resource, concurrently, sharing one federated token. */
  mint(): Promise<ExoTokens> {
    this.minting ??= this.mintAll()
      .then((tokens) => {
        this.current = tokens;
        return tokens;
      })
      .finally(() => {
        this.minting = undefined;
      });
    return this.minting;
  }

  /** Current tokens if they stay valid until `minValidUntil`, else freshly minted ones. */
  async tokensValidUntil(minValidUntil: Date): Promise<ExoTokens> {
    if (this.current && this.current.expiresOn.getTime() > minValidUntil.getTime()) return this.current;
    // A re-mint starts from a fresh federated token (a new assertion), not one cached from the first mint.
    if (this.current && !this.minting) this.assertion.discard();
    const fresh = await this.mint();
    if (fresh.expiresOn.getTime() <= minValidUntil.getTime()) {
      throw new ExoLoginError(
        `Entra issues tokens valid until ${fresh.expiresOn.toISOString()}, before the ${minValidUntil.toISOString()} a worker needs: lower timeout-minutes below the token lifetime (typically 60–90 minutes).`,
        'token-lifetime',
      );
    }
    return fresh;
  }

  private async mintAll(): Promise<ExoTokens> {
    const { settings } = this;
    // Ask for the federated token first and load MSAL (most of the code to compile) once that request is on
    // the wire, so compiling overlaps the wait for GitHub's answer. The callback below reuses the token.
    const assertion = this.assertion.get();
    const [msal] = await Promise.all([requestsSent().then(loadMsal), assertion]);
    // Once one resource fails the mint fails: stop the others' retries, whose timers would keep the process alive.
    const giveUp = new AbortController();
    const minted = await Promise.all(
      settings.resources.map((request) =>
        this.mintOne(msal, request, giveUp.signal).catch((error: unknown) => {
          giveUp.abort();
          throw error;
        }),
      ),
    );
    const tokens: Partial<Record<ResourceKind, AccessToken>> = {};
    for (const token of minted) tokens[token.kind] = token;
    return {
      environment: settings.environment,
      tenantId: minted[0]?.claims.tenantId ?? settings.tenantId,
      organization: settings.organization,
      tokens,
      expiresOn: new Date(Math.min(...minted.map((t) => t.expiresOn.getTime()))),
      warnings: mintWarnings(minted, settings),
    };
  }

  private async mintOne(msal: Msal, request: ResourceRequest, signal: AbortSignal): Promise<AccessToken> {
    const { deps } = this;
    const exchange: EntraExchange = {
      settings: this.settings,
      assertion: this.assertion,
      send: deps.send ?? httpsSend,
      now: () => this.now(),
      timeoutMs: deps.timeoutMs ?? 15_000,
      retryPolicy: deps.retryPolicy,
      clock: deps.clock,
      onRetry: deps.onRetry,
    };
    const result = await requestToken(msal, exchange, request, signal);
    deps.onSecret?.(result.accessToken);
    const expiry = expiryOf(decodeJwtClaims(result.accessToken));
    // The token's own exp wins; one that is not a date (or absurdly far) yields to Entra's checked expires_in.
    const saneExpiry =
      expiry !== undefined && expiry.getTime() < this.now() + 7 * 86_400_000 ? expiry : result.expiresOn;
    return {
      kind: request.kind,
      resource: request.resource,
      token: result.accessToken,
      expiresOn: saneExpiry,
      claims: claimsOf(result.accessToken),
    };
  }
}

/** What does not stop a mint but will stop a connection: a missing role, an organization that may not work. */
function mintWarnings(minted: readonly AccessToken[], settings: ResolvedSettings): string[] {
  const warnings: string[] = [];
  for (const token of minted) {
    if (token.kind !== 'graph' && !token.claims.roles.includes(EXCHANGE_MANAGE_AS_APP_ROLE)) {
      warnings.push(
        `The ${token.kind} token for ${token.resource} has no ${EXCHANGE_MANAGE_AS_APP_ROLE} role (roles: ${token.claims.roles.join(', ') || 'none'}): ${TROUBLES.missingRole.cause} ${fixFor('missingRole')}`,
      );
    }
  }
  const organizationNote = organizationWarning(settings);
  if (organizationNote !== undefined) warnings.push(organizationNote);
  return warnings;
}

/** Convenience: one session, one mint. */
export async function getExchangeOnlineTokens(options: ExoLoginOptions): Promise<ExoTokens> {
  return new ExoLoginSession(options).mint();
}
