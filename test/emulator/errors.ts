/**
 * Entra ID's OAuth error responses, in the shape and wording the v2.0 token endpoint uses
 * (`AADSTSnnnn: … Trace ID: … Correlation ID: … Timestamp: …`).
 */
import { randomUUID } from 'node:crypto';

export interface EntraError {
  status: number;
  error: string;
  code: number;
  description: string;
}

export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** Entra's timestamp format: `2026-11-25 10:00:00Z`. */
function entraTimestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function entraErrorBody(
  err: EntraError,
  correlationId: string,
  host: string,
  now = new Date(),
): EntraErrorBody {
  const traceId = randomUUID();
  const timestamp = entraTimestamp(now);
  return {
    error: err.error,
    error_description: `AADSTS${err.code}: ${err.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [err.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://${host}/error?code=${err.code}`,
  };
}

const WIF_DOC = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

export const ENTRA = {
  tenantNotFound: (tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 90002,
    description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  applicationNotFound: (clientId: string, tenant: string): EntraError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    description: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  resourceNotFound: (resource: string, tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    description: `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  unsupportedGrant: (grant: string): EntraError => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    description: `The app requested an unsupported grant type '${grant}'.`,
  }),
  invalidScope: (scope: string): EntraError => ({
    status: 400,
    error: 'invalid_scope',
    code: 1002012,
    description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  credentialRequired: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    description:
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  assertionTypeInvalid: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    description: "Client assertion type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
  }),
  malformedAssertion: (): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 50027,
    description: 'JWT token is invalid or malformed.',
  }),
  // Today's federated-credential refusals name the one claim no record matched (checked in this order); they are
  // invalid_client / 401. Wording as real tenants answer (2024-2025 logs; 700212 follows the same pattern).
  issuerNoMatch: (issuer: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700211,
    description: `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOC}`,
  }),
  subjectNoMatch: (subject: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700213,
    description: `No matching federated identity record found for presented assertion subject '${subject}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOC}`,
  }),
  subjectCaseMismatch: (subject: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7002138,
    description: `No matching federated identity record found for presented assertion subject '${subject}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: ${WIF_DOC}. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.`,
  }),
  audienceNoMatch: (audience: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700212,
    description: `No matching federated identity record found for presented assertion audience '${audience}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOC}`,
  }),
  /** What tenants answered before the per-claim codes (and before matching became case-sensitive): all three claims. */
  noMatch: (issuer: string, subject: string, audience: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 70021,
    description: `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audience}'. ${WIF_DOC}`,
  }),
  /** The assertion names a signing key (x5t/kid) its issuer does not publish. */
  signingKeyNotFound: (keyId: string, issuer: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000272,
    description: `The certificate with identifier ${keyId} used to sign the federated credential could not be found in the metadata of identity provider ${issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.`,
  }),
  signatureInvalid: (kid: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 5002738,
    description: `Invalid JWT token. No certificate thumbprint specified in token header. Signing key '${kid}' of the presented assertion could not be verified with the issuer's published keys.`,
  }),
  assertionTimeRange: (now: Date, nbf: number, exp: number): EntraError => ({
    status: 401,
    error: 'invalid_client',
    code: 700024,
    description: `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${new Date(nbf * 1000).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
  }),
  loopDetected: (): EntraError => ({
    status: 400,
    error: 'invalid_request',
    code: 50196,
    description:
      'The server terminated an operation because it encountered a client request loop. Please contact your app vendor.',
  }),
  temporarilyUnavailable: (status: number): EntraError => ({
    status,
    error: 'temporarily_unavailable',
    code: 90033,
    description: 'A transient error has occurred. Please try again.',
  }),
} as const;
