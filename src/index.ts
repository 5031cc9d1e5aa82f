/**
 * exo-login as a library: the same core the action and the CLI use.
 *
 *   const { tokens } = await getExchangeOnlineTokens({
 *     tenantId: 'contoso.onmicrosoft.com', clientId: '…', assertion: tokenFileSource(process.env.AZURE_FEDERATED_TOKEN_FILE!),
 *   });
 */
export {
  getExchangeOnlineTokens,
  ExoLoginSession,
  resolveSettings,
  claimsOf,
  type ExoLoginOptions,
  type ExoTokens,
  type AccessToken,
  type TokenClaims,
  type ResolvedSettings,
} from './core/token.js';
export {
  gitHubActionsSource,
  tokenFileSource,
  envVarSource,
  callbackSource,
  hasGitHubOidc,
  type FederatedTokenSource,
} from './core/assertion.js';
export { detectSource } from './cli/source.js';
export {
  CLOUDS,
  ENVIRONMENT_NAMES,
  RESOURCE_KINDS,
  type Cloud,
  type EnvironmentName,
  type ResourceKind,
} from './core/clouds.js';
export { ExoLoginError, InputError } from './core/errors.js';
export {
  exchangeOnline,
  ExchangeApiError,
  RESULT_SIZE_WARNING,
  type CmdletCall,
  type CmdletRow,
  type ExchangeClientOptions,
  type ExchangeEndpoint,
  type ExchangeErrorReason,
  type ExchangeOnlineClient,
  type InvokeOptions,
} from './exchange/index.js';
export { EnvVar, tokenVariables } from './core/variables.js';
export { TROUBLES, type Trouble } from './core/troubleshooting.js';
export type { RetryPolicy } from './core/retry.js';
export {
  runWorkers,
  expandScripts,
  shardOf,
  powershellWrapper,
  type Logger,
  type RunWorkersOptions,
  type WorkerRow,
  type WorkerRun,
  type WorkerSpec,
} from './workers/index.js';
