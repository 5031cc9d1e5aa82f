/**
 * Where admin API requests go: the API host from the cloud table or a `kind=https://…` resource override, and the
 * rule for regional redirects and nextLinks. The bearer token goes only to hosts of the endpoint's own domain
 * (`outlook.office365.com` and its subdomains such as `nam13b.outlook.office365.com`), never to whatever a
 * Location header names. Pure.
 */
import { CLOUDS } from '../core/clouds.js';
import type { ResolvedSettings } from '../core/token.js';

export type ExchangeEndpoint = 'exchange' | 'compliance';

export const EXCHANGE_ENDPOINTS: readonly ExchangeEndpoint[] = ['exchange', 'compliance'];

/** The origin requests go to first: the resource, except the DoD compliance host (l5.…, the module's rule). */
export function apiOrigin(
  settings: Pick<ResolvedSettings, 'environment' | 'resources'>,
  endpoint: ExchangeEndpoint,
): string | undefined {
  const request = settings.resources.find((r) => r.kind === endpoint);
  if (!request) return undefined;
  const cloud = CLOUDS[settings.environment];
  if (
    endpoint === 'compliance' &&
    request.resource === cloud.resources.compliance &&
    cloud.compliancePowerShell
  ) {
    return new URL(cloud.compliancePowerShell.connectionUri).origin;
  }
  return new URL(request.resource).origin;
}

/** The domain whose hosts may receive the token: the API host's name without a leading `l5.`. */
export function trustedDomain(origin: string): string {
  return new URL(origin).hostname.toLowerCase().replace(/^l5\./, '');
}

export type RedirectVerdict = { follow: true; url: URL } | { follow: false; why: string };

/**
 * Whether to send the token to `location` (a Location header or a nextLink), resolved against `current`. The
 * backend port 446 is rewritten to 443; a compliance redirect to `<region>.admin.protection.<suffix>` is turned
 * into `<region>.ps.compliance.protection.<suffix>` (where its cmdlets live), as go-exoscc and CIPP do.
 */
export function judgeLocation(location: string, current: string, domain: string): RedirectVerdict {
  let url: URL;
  try {
    url = new URL(location, current);
  } catch {
    return { follow: false, why: 'it is not a URL' };
  }
  if (url.protocol !== 'https:') return { follow: false, why: 'it is not https' };
  if (url.username !== '' || url.password !== '') return { follow: false, why: 'it carries credentials' };
  if (url.port === '446') url.port = '';
  const admin = /^([a-z0-9-]+)\.admin\.protection\.(.+)$/.exec(url.hostname.toLowerCase());
  if (admin && domain === `ps.compliance.protection.${admin[2] ?? ''}`) {
    url.hostname = `${admin[1] ?? ''}.ps.compliance.protection.${admin[2] ?? ''}`;
  }
  const host = url.hostname.toLowerCase();
  if (host !== domain && !host.endsWith(`.${domain}`)) {
    return { follow: false, why: `${url.host} is not a host of ${domain}` };
  }
  return { follow: true, url };
}

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The app-only anchor: the module's `UPN:OAuthUser@<org>` when the organization is known, else CIPP's. */
export function defaultAnchor(tenantId: string, organization: string | undefined): string {
  return organization
    ? `UPN:OAuthUser@${organization}`
    : `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${tenantId}`;
}
