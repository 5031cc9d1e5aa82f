/**
 * The one table of Exchange Online environments. Names are the values of
 * `Connect-ExchangeOnline -ExchangeEnvironmentName` so users can copy them.
 * Source: ../shared/docs/clouds.md (ExchangeOnlineManagement's environment table).
 */
export type EnvironmentName = 'O365Default' | 'O365USGovGCCHigh' | 'O365USGovDoD' | 'O365China';

/** What a token can be requested for; each maps to one Entra resource per cloud. */
export type ResourceKind = 'exchange' | 'compliance' | 'graph';

export const RESOURCE_KINDS: readonly ResourceKind[] = ['exchange', 'compliance', 'graph'];

export interface Cloud {
  readonly name: EnvironmentName;
  readonly description: string;
  /** Entra authority host (no scheme). */
  readonly authorityHost: string;
  /** Other names of the same Entra endpoint, so a host given explicitly is recognised as this cloud's. */
  readonly authorityHostAliases?: readonly string[];
  /** Suffix of a tenant's initial domain (`contoso.<suffix>`), what Connect-ExchangeOnline -Organization expects. */
  readonly initialDomainSuffix: string;
  /** Audience Entra recommends for a GitHub federated credential in this cloud. */
  readonly oidcAudience: string;
  /** Entra resource (token audience) per kind; the scope is resource + '/.default'. */
  readonly resources: Readonly<Record<ResourceKind, string>>;
  /**
   * Where Connect-IPPSSession connects and signs in outside the commercial cloud: unlike Connect-ExchangeOnline
   * it has no environment name, and without these it goes to the commercial endpoint with a sovereign token.
   */
  readonly compliancePowerShell?: {
    readonly connectionUri: string;
    readonly authorizationEndpointUri: string;
  };
  /** A value the public sources disagree on and nobody here could check against the live cloud. */
  readonly unconfirmed?: string;
}

export const CLOUDS: Readonly<Record<EnvironmentName, Cloud>> = {
  O365Default: {
    name: 'O365Default',
    description: 'commercial and GCC moderate',
    authorityHost: 'login.microsoftonline.com',
    initialDomainSuffix: 'onmicrosoft.com',
    oidcAudience: 'api://AzureADTokenExchange',
    resources: {
      exchange: 'https://outlook.office365.com',
      compliance: 'https://ps.compliance.protection.outlook.com',
      graph: 'https://graph.microsoft.com',
    },
  },
  O365USGovGCCHigh: {
    name: 'O365USGovGCCHigh',
    description: 'US Government GCC High',
    authorityHost: 'login.microsoftonline.us',
    initialDomainSuffix: 'onmicrosoft.us',
    oidcAudience: 'api://AzureADTokenExchangeUSGov',
    resources: {
      exchange: 'https://outlook.office365.us',
      compliance: 'https://ps.compliance.protection.office365.us',
      graph: 'https://graph.microsoft.us',
    },
    compliancePowerShell: {
      connectionUri: 'https://ps.compliance.protection.office365.us/powershell-liveid/',
      authorizationEndpointUri: 'https://login.microsoftonline.us/common',
    },
  },
  O365USGovDoD: {
    name: 'O365USGovDoD',
    description: 'US Government DoD',
    authorityHost: 'login.microsoftonline.us',
    initialDomainSuffix: 'onmicrosoft.us',
    oidcAudience: 'api://AzureADTokenExchangeUSGov',
    resources: {
      exchange: 'https://outlook-dod.office365.us',
      // Requests go to l5.ps.compliance…; the module strips "l5." for the token audience.
      compliance: 'https://ps.compliance.protection.office365.us',
      graph: 'https://dod-graph.microsoft.us',
    },
    compliancePowerShell: {
      connectionUri: 'https://l5.ps.compliance.protection.office365.us/powershell-liveid/',
      authorizationEndpointUri: 'https://login.microsoftonline.us/common',
    },
    unconfirmed:
      'the DoD Exchange Online resource: the module uses outlook-dod.office365.us, some projects outlook.office365.us. If Entra answers AADSTS500011 for it, set `resources: exchange=https://outlook.office365.us`.',
  },
  O365China: {
    name: 'O365China',
    description: 'operated by 21Vianet',
    authorityHost: 'login.chinacloudapi.cn',
    authorityHostAliases: ['login.partner.microsoftonline.cn'],
    initialDomainSuffix: 'partner.onmschina.cn',
    oidcAudience: 'api://AzureADTokenExchangeChina',
    resources: {
      exchange: 'https://partner.outlook.cn',
      compliance: 'https://ps.compliance.protection.partner.outlook.cn',
      graph: 'https://microsoftgraph.chinacloudapi.cn',
    },
    compliancePowerShell: {
      connectionUri: 'https://ps.compliance.protection.partner.outlook.cn/powershell-liveid',
      authorizationEndpointUri: 'https://login.chinacloudapi.cn/common',
    },
  },
};

export const ENVIRONMENT_NAMES = Object.keys(CLOUDS) as EnvironmentName[];

/** The GitHub Actions OIDC issuer a federated credential must name. */
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

/** Application (client) id of the "Office 365 Exchange Online" service principal that owns Exchange.ManageAsApp. */
export const EXCHANGE_ONLINE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';

/** The application permission Connect-ExchangeOnline needs in an app-only token. */
export const EXCHANGE_MANAGE_AS_APP_ROLE = 'Exchange.ManageAsApp';
