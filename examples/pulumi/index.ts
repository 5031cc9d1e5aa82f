/**
 * A Pulumi program that manages Exchange Online configuration with exo-login's dynamic resources: a mail flow
 * rule, a remote domain, organisation settings and one TransportConfig setting. No secret is stored anywhere: each
 * provider operation mints app-only Exchange tokens from the federated token of the environment `pulumi up` runs in
 * — GitHub Actions OIDC (id-token: write), a workload-identity token file (AZURE_FEDERATED_TOKEN_FILE),
 * EXO_FEDERATED_TOKEN (GitLab id_tokens), or Pulumi ESC's azure-login (ARM_OIDC_TOKEN).
 *
 *   pulumi config set exo:tenantId contoso.onmicrosoft.com   # or AZURE_TENANT_ID / ARM_TENANT_ID
 *   pulumi config set exo:clientId 5f0d7c9a-…                # or AZURE_CLIENT_ID / ARM_CLIENT_ID
 *   pulumi up
 */
import * as pulumi from '@pulumi/pulumi';
import {
  ExchangeSettings,
  OrganizationConfig,
  RemoteDomain,
  TransportRule,
  type ExchangeConnection,
} from 'exo-login/pulumi';

const config = new pulumi.Config('exo');
// Unset fields fall back to the environment at deployment time (AZURE_TENANT_ID, ARM_TENANT_ID, …).
const connection: ExchangeConnection = {
  ...(config.get('tenantId') !== undefined && { tenantId: config.require('tenantId') }),
  ...(config.get('clientId') !== undefined && { clientId: config.require('clientId') }),
};
const partnerDomain = config.get('partnerDomain') ?? 'fabrikam.com';

const tagExternal = new TransportRule('tag-external-mail', {
  connection,
  Name: 'Tag external mail',
  FromScope: 'NotInOrganization',
  SentToScope: 'InOrganization',
  PrependSubject: '[External] ',
  Priority: 0,
  Comments: 'Managed by Pulumi (exo-login)',
});

const partner = new RemoteDomain('partner', {
  connection,
  Name: 'Partner',
  DomainName: partnerDomain,
  AutoForwardEnabled: false,
  AutoReplyEnabled: true,
  AllowedOOFType: 'External',
});

new OrganizationConfig('organization', {
  connection,
  AuditDisabled: false,
  MailTipsAllTipsEnabled: true,
  MailTipsExternalRecipientsTipsEnabled: true,
});

// Any Get-/Set-<Noun> singleton, untyped: turn off SMTP AUTH client submission tenant-wide.
new ExchangeSettings('smtp-client-auth', {
  connection,
  noun: 'TransportConfig',
  properties: { SmtpClientAuthenticationDisabled: true },
});

export const transportRule = tagExternal.identity;
export const transportRuleProperties = tagExternal.properties;
export const remoteDomain = partner.properties.apply((p) => p.DomainName);
