import * as core from '@actions/core';
import type { ExoTokens } from '../core/token.js';
import { EnvVar, Output } from './names.js';

/**
 * Sets outputs (and, with export-env, variables for later steps). Every token was already masked when it was
 * minted (onSecret → core.setSecret), so nothing here can be the first appearance of a secret.
 */
export function publishTokens(tokens: ExoTokens, exportEnv: boolean): void {
  const values: [Output, EnvVar | undefined, string | undefined][] = [
    [Output.AccessToken, EnvVar.AccessToken, tokens.tokens.exchange?.token],
    [Output.ComplianceAccessToken, EnvVar.ComplianceAccessToken, tokens.tokens.compliance?.token],
    [Output.GraphAccessToken, EnvVar.GraphAccessToken, tokens.tokens.graph?.token],
    [Output.ExpiresOn, EnvVar.ExpiresOn, tokens.expiresOn.toISOString()],
    [Output.TenantId, EnvVar.TenantId, tokens.tenantId],
    [Output.Organization, EnvVar.Organization, tokens.organization],
    [Output.Environment, EnvVar.Environment, tokens.environment],
  ];
  for (const [output, variable, value] of values) {
    if (value === undefined) continue;
    core.setOutput(output, value);
    if (exportEnv && variable !== undefined) core.exportVariable(variable, value);
  }
}
