/**
 * What the admin API client needs of a token source. ExoLoginSession is one (tokens re-minted before they
 * expire); tokensFromEnvironment() makes one from the variables a `.js`/`.mjs` worker is given, whose tokens
 * cannot be refreshed.
 */
import { ExoLoginError } from '../core/errors.js';
import { audienceClaim, decodeJwtClaims, expiryOf } from '../core/jwt.js';
import { EnvVar } from '../core/variables.js';
import { quoted } from '../core/names.js';
import { claimsOf, type AccessToken, type ResolvedSettings } from '../core/token.js';
import { ENVIRONMENT_NAMES, type EnvironmentName, type ResourceKind } from '../core/clouds.js';

export interface ExchangeTokenSource {
  readonly settings: Pick<ResolvedSettings, 'tenantId' | 'environment' | 'organization' | 'resources'>;
  /** Tokens valid until `minValidUntil` where the source can mint them. */
  tokensValidUntil(
    minValidUntil: Date,
  ): Promise<{ tenantId: string; tokens: Partial<Record<ResourceKind, Pick<AccessToken, 'token'>>> }>;
  /** Fresh tokens (after a 401). */
  mint(): Promise<{ tokens: Partial<Record<ResourceKind, Pick<AccessToken, 'token'>>> }>;
}

/**
 * The tokens exo-login gives a worker (EXO_ACCESS_TOKEN, IPPS_ACCESS_TOKEN, EXO_TENANT_ID, EXO_ORGANIZATION,
 * EXO_ENVIRONMENT) as a token source. The API host is each token's audience, so a `resources: exchange=https://…`
 * override reaches the worker too.
 */
export function tokensFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ExchangeTokenSource {
  const tokens: Partial<Record<ResourceKind, { token: string; expiresOn: Date | undefined }>> = {};
  const resources: { kind: ResourceKind; resource: string }[] = [];
  for (const [kind, name] of [
    ['exchange', EnvVar.AccessToken],
    ['compliance', EnvVar.ComplianceAccessToken],
  ] as const) {
    const token = env[name]?.trim();
    if (!token) continue;
    const claims = decodeJwtClaims(token);
    const audience = audienceClaim(claims);
    if (!claims || !audience || !/^https:\/\//.test(audience)) {
      throw new ExoLoginError(
        `${name} must hold the access token exo-login gave this worker (a JWT whose audience is an https:// resource).`,
        'token-env',
      );
    }
    tokens[kind] = { token, expiresOn: expiryOf(claims) };
    resources.push({ kind, resource: audience.replace(/\/+$/, '') });
  }
  if (resources.length === 0) {
    throw new ExoLoginError(
      `No ${EnvVar.AccessToken} or ${EnvVar.ComplianceAccessToken} in the environment: run this script as an exo-login worker (the action's \`scripts\` input or exo-login run), or build the client on an ExoLoginSession.`,
      'token-env',
    );
  }
  const first = Object.values(tokens)[0]?.token ?? '';
  const tenantId = env[EnvVar.TenantId]?.trim() || claimsOf(first).tenantId || '';
  const current = { tenantId, tokens };
  return {
    settings: {
      tenantId,
      environment: environmentOf(env[EnvVar.Environment]),
      organization: env[EnvVar.Organization]?.trim() || undefined,
      resources,
    },
    tokensValidUntil: () => {
      const expired = Object.values(tokens).find(
        (t) => t.expiresOn !== undefined && t.expiresOn.getTime() <= Date.now(),
      );
      if (expired) {
        return Promise.reject(
          new ExoLoginError(
            `The worker's token expired at ${expired.expiresOn?.toISOString() ?? '?'}; a worker cannot refresh it. Keep the job within the token's lifetime (timeout-minutes under 60), or mint tokens in the script with an ExoLoginSession.`,
            'token-lifetime',
          ),
        );
      }
      return Promise.resolve(current);
    },
    // Nothing to refresh with: the client's one retry after a 401 resends the same token, then explains.
    mint: () => Promise.resolve(current),
  };
}

/** EXO_ENVIRONMENT as exo-login sets it (a Connect-ExchangeOnline environment name); unset means O365Default. */
function environmentOf(value: string | undefined): EnvironmentName {
  const v = (value ?? '').trim();
  if (v === '') return 'O365Default';
  const match = ENVIRONMENT_NAMES.find((name) => name.toLowerCase() === v.toLowerCase());
  if (match) return match;
  throw new ExoLoginError(
    `${EnvVar.Environment} must be one of ${ENVIRONMENT_NAMES.join(', ')}; got ${quoted(v)}.`,
    'token-env',
  );
}
