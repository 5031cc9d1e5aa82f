/**
 * Environment variables that carry tokens and settings: exported to later steps (`export-env: true`), given to
 * workers, and printed by `exo-login token --format env`.
 */
export enum EnvVar {
  AccessToken = 'EXO_ACCESS_TOKEN',
  Organization = 'EXO_ORGANIZATION',
  TenantId = 'EXO_TENANT_ID',
  Environment = 'EXO_ENVIRONMENT',
  ExpiresOn = 'EXO_EXPIRES_ON',
  ComplianceAccessToken = 'IPPS_ACCESS_TOKEN',
  GraphAccessToken = 'GRAPH_ACCESS_TOKEN',
}

/** The variables for a set of tokens, in a stable order; tokens not requested are left out. */
export function tokenVariables(tokens: {
  tokens: Partial<Record<'exchange' | 'compliance' | 'graph', { token: string }>>;
  organization: string | undefined;
  tenantId: string;
  environment: string;
  expiresOn: Date;
}): [EnvVar, string][] {
  const pairs: [EnvVar, string | undefined][] = [
    [EnvVar.AccessToken, tokens.tokens.exchange?.token],
    [EnvVar.ComplianceAccessToken, tokens.tokens.compliance?.token],
    [EnvVar.GraphAccessToken, tokens.tokens.graph?.token],
    [EnvVar.Organization, tokens.organization],
    [EnvVar.TenantId, tokens.tenantId],
    [EnvVar.Environment, tokens.environment],
    [EnvVar.ExpiresOn, tokens.expiresOn.toISOString()],
  ];
  return pairs.filter((pair): pair is [EnvVar, string] => pair[1] !== undefined);
}
