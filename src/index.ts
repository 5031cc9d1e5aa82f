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
  claimsOf,
  type ExoLoginOptions,
  type SessionDeps,
  type ExoTokens,
  type AccessToken,
  type TokenClaims,
} from './core/session.js';
export {
  resolveSettings,
  type ResolvedSettings,
  type SettingsInput,
  type SettingSource,
} from './core/settings.js';
export type { HttpRequest, HttpResponse, HttpSend, Endpoint } from './core/http.js';
export {
  gitHubActionsSource,
  tokenFileSource,
  envVarSource,
  callbackSource,
  hasGitHubOidc,
  type FederatedTokenSource,
} from './core/assertion.js';
export { detectSource } from './core/sources.js';
export {
  CLOUDS,
  ENVIRONMENT_NAMES,
  RESOURCE_KINDS,
  type Cloud,
  type EnvironmentName,
  type ResourceKind,
} from './core/clouds.js';
export { ExoLoginError, InputError, type ErrorCode } from './core/errors.js';
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
  tokensFromEnvironment,
  type ExchangeTokenSource,
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
