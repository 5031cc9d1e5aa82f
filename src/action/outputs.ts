import * as core from '@actions/core';
import type { ExoTokens } from '../core/token.js';
import { tokenVariables } from '../core/variables.js';
import { Output } from './names.js';

/**
 * Sets outputs (and, with export-env, variables for later steps). Every token was already masked when it was
 * minted (onSecret → core.setSecret), so nothing here can be the first appearance of a secret.
 */
export function publishTokens(tokens: ExoTokens, exportEnv: boolean): void {
  const outputs: [Output, string | undefined][] = [
    [Output.AccessToken, tokens.tokens.exchange?.token],
    [Output.ComplianceAccessToken, tokens.tokens.compliance?.token],
    [Output.GraphAccessToken, tokens.tokens.graph?.token],
    [Output.ExpiresOn, tokens.expiresOn.toISOString()],
    [Output.TenantId, tokens.tenantId],
    [Output.Organization, tokens.organization],
    [Output.Environment, tokens.environment],
  ];
  for (const [output, value] of outputs) if (value !== undefined) core.setOutput(output, value);
  if (exportEnv) for (const [name, value] of tokenVariables(tokens)) core.exportVariable(name, value);
}
