/** Exchange cmdlets over the admin REST API, without PowerShell (imports core only). */
export {
  exchangeOnline,
  RESULT_SIZE_WARNING,
  EXCHANGE_RETRY_POLICY,
  type CmdletCall,
  type CmdletRow,
  type ExchangeClientOptions,
  type ExchangeOnlineClient,
  type InvokeOptions,
} from './client.js';
export { ExchangeApiError, type ExchangeErrorReason } from './errors.js';
export { encodeParameters, stripAnnotations } from './encode.js';
export type { ExchangeEndpoint } from './routing.js';
export { tokensFromEnvironment, type ExchangeTokenSource } from './tokens.js';
