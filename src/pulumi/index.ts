/**
 * exo-login/pulumi: Exchange Online configuration as code, as Pulumi dynamic resources on the admin API client.
 * No token reaches the state: each provider operation mints from the environment's federated token.
 *
 *   import { TransportRule, OrganizationConfig } from 'exo-login/pulumi';
 *   new TransportRule('tag-external', { Name: 'Tag external mail', FromScope: 'NotInOrganization', PrependSubject: '[External] ' });
 *   new OrganizationConfig('org', { AuditDisabled: false });
 */
import { ObjectProvider } from './object-provider.js';
import { environmentContext, type ProviderContext } from './provider.js';
import { SettingsProvider } from './settings-provider.js';

export {
  ExchangeObject,
  ExchangeSettings,
  TransportRule,
  RemoteDomain,
  OrganizationConfig,
  AdminAuditLogConfig,
  type ExchangeObjectArgs,
  type ExchangeSettingsArgs,
  type TransportRuleArgs,
  type RemoteDomainArgs,
  type OrganizationConfigArgs,
  type AdminAuditLogConfigArgs,
  type ConnectionInput,
  type PropertyInputs,
  type SettingsArgs,
} from './resources.js';
export {
  FAMILIES,
  type FamilySpec,
  type TransportRuleProperties,
  type RemoteDomainProperties,
  type OrganizationConfigProperties,
  type AdminAuditLogConfigProperties,
} from './families.js';
export { CONNECTION_FALLBACKS, ESC_OIDC_TOKEN_ENV, type ExchangeConnection } from './connection.js';
export { ExchangeResourceError } from './errors.js';

type Kind = 'object' | 'settings';
let shared: ProviderContext | undefined;
const providers: { object?: ObjectProvider; settings?: SettingsProvider } = {};

/**
 * For the serialized provider (serialized.ts) inside Pulumi's dynamic-provider host: the implementation, made
 * once per process from its environment, with one session per connection shared by every resource. Not meant
 * to be called from a program.
 */
export function dynamicProvider(kind: Kind): ObjectProvider | SettingsProvider {
  shared ??= environmentContext();
  if (kind === 'object') return (providers.object ??= new ObjectProvider(shared));
  return (providers.settings ??= new SettingsProvider(shared));
}
