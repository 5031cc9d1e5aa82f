/**
 * exo-login/pulumi: Exchange Online configuration as code, as Pulumi dynamic resources on the admin API client.
 * No token reaches the state: each provider operation mints from the environment's federated token.
 *
 *   import { TransportRule, OrganizationConfig } from 'exo-login/pulumi';
 *   new TransportRule('tag-external', { Name: 'Tag external mail', FromScope: 'NotInOrganization', PrependSubject: '[External] ' });
 *   new OrganizationConfig('org', { AuditDisabled: false });
 */
import { engineLog } from './engine-log.js';
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
const providers: { object?: Methods<ObjectProvider>; settings?: Methods<SettingsProvider> } = {};

type Method = 'check' | 'diff' | 'create' | 'read' | 'update' | 'delete';
const METHODS: readonly Method[] = ['check', 'diff', 'create', 'read', 'update', 'delete'];
type Methods<T extends ObjectProvider | SettingsProvider> = Pick<T, Method>;

/** Each method returns once what it logged has reached the engine, so no line is lost when the host is stopped. */
function delivering<T extends ObjectProvider | SettingsProvider>(
  provider: T,
  context: ProviderContext,
): Methods<T> {
  const wrapped: Record<string, unknown> = {};
  for (const name of METHODS) {
    const method = provider[name].bind(provider) as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = (...args: unknown[]) => method(...args).finally(() => context.delivered());
  }
  return wrapped as Methods<T>;
}

/**
 * For the serialized provider (serialized.ts) inside Pulumi's dynamic-provider host: the implementation, made
 * once per process from its environment, with one session per connection shared by every resource, and its
 * messages sent to the engine whose address the host was started with. Not meant to be called from a program.
 */
export function dynamicProvider(kind: Kind): Methods<ObjectProvider> | Methods<SettingsProvider> {
  if (!shared) {
    const toEngine = engineLog(process.argv[2]);
    shared = environmentContext(process.env, toEngine);
  }
  if (kind === 'object') return (providers.object ??= delivering(new ObjectProvider(shared), shared));
  return (providers.settings ??= delivering(new SettingsProvider(shared), shared));
}
