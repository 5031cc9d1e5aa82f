/** The session and its types, where earlier versions had them: kept so existing imports work. */
export {
  ExoLoginSession,
  claimsOf,
  getExchangeOnlineTokens,
  type AccessToken,
  type ExoLoginOptions,
  type ExoTokens,
  type SessionDeps,
  type TokenClaims,
} from './session.js';
export { resolveSettings, type ResolvedSettings } from './settings.js';
export { authorityMetadata } from './entra.js';
