/**
 * Typed property sets for common cmdlet families. Names are the cmdlets' parameter names (as in the Exchange
 * docs and PowerShell), so a value can be copied from `Get-TransportRule | Format-List`. Only what is declared is
 * managed: a property left out is neither read nor changed.
 */

/** One source of truth per family: its noun, and which parameters only New- or only Set- accept. */
export interface FamilySpec {
  noun: string;
  createOnly: readonly string[];
  setOnly: readonly string[];
  /** State is switched with Enable-/Disable-<Noun>. */
  enableCmdlets: boolean;
}

export const FAMILIES = {
  TransportRule: { noun: 'TransportRule', createOnly: [], setOnly: [], enableCmdlets: true },
  // New-RemoteDomain takes only -Name and -DomainName; every setting is Set-RemoteDomain's.
  RemoteDomain: {
    noun: 'RemoteDomain',
    enableCmdlets: false,
    createOnly: ['DomainName'],
    setOnly: [
      'AllowedOOFType',
      'AutoForwardEnabled',
      'AutoReplyEnabled',
      'CharacterSet',
      'ContentType',
      'DeliveryReportEnabled',
      'DisplaySenderName',
      'IsInternal',
      'LineWrapSize',
      'MeetingForwardNotificationEnabled',
      'NDREnabled',
      'NonMimeCharacterSet',
      'TNEFEnabled',
      'TrustedMailInboundEnabled',
      'TrustedMailOutboundEnabled',
      'UseSimpleDisplayName',
    ],
  },
} as const satisfies Record<string, FamilySpec>;

export type TransportRuleMode = 'Enforce' | 'Audit' | 'AuditAndNotify';
export type TransportRuleScope = 'InOrganization' | 'NotInOrganization';

/** Set-/New-TransportRule parameters (a common subset; use ExchangeObject for the rest). */
export interface TransportRuleProperties {
  /** New rules are created with it (-Enabled); a change runs Enable-/Disable-TransportRule. Default Enabled. */
  State?: 'Enabled' | 'Disabled';
  Priority?: number;
  Mode?: TransportRuleMode;
  Comments?: string;
  StopRuleProcessing?: boolean;
  // Conditions
  FromScope?: TransportRuleScope;
  SentToScope?: TransportRuleScope;
  From?: string[];
  SentTo?: string[];
  SenderDomainIs?: string[];
  RecipientDomainIs?: string[];
  SubjectContainsWords?: string[];
  SubjectOrBodyContainsWords?: string[];
  AttachmentExtensionMatchesWords?: string[];
  AttachmentHasExecutableContent?: boolean;
  HeaderContainsMessageHeader?: string;
  HeaderContainsWords?: string[];
  // Exceptions
  ExceptIfFromScope?: TransportRuleScope;
  ExceptIfSenderDomainIs?: string[];
  ExceptIfRecipientDomainIs?: string[];
  ExceptIfSubjectContainsWords?: string[];
  // Actions
  PrependSubject?: string;
  SetHeaderName?: string;
  SetHeaderValue?: string;
  SetSCL?: number;
  ApplyHtmlDisclaimerText?: string;
  ApplyHtmlDisclaimerLocation?: 'Append' | 'Prepend';
  ApplyHtmlDisclaimerFallbackAction?: 'Wrap' | 'Ignore' | 'Reject';
  RejectMessageReasonText?: string;
  RejectMessageEnhancedStatusCode?: string;
  DeleteMessage?: boolean;
  Quarantine?: boolean;
  BlindCopyTo?: string[];
  RedirectMessageTo?: string[];
  ModerateMessageByUser?: string[];
  SenderNotificationType?: 'NotifyOnly' | 'RejectMessage' | 'RejectUnlessFalsePositiveOverride';
}

/** Set-RemoteDomain parameters; DomainName is New-RemoteDomain's and cannot change (it replaces the domain). */
export interface RemoteDomainProperties {
  /** The SMTP domain, e.g. `contoso.com` or `*.contoso.com`. Changing it replaces the remote domain. */
  DomainName: string;
  AllowedOOFType?: 'External' | 'ExternalLegacy' | 'InternalLegacy' | 'None';
  AutoForwardEnabled?: boolean;
  AutoReplyEnabled?: boolean;
  CharacterSet?: string;
  ContentType?: 'MimeHtmlText' | 'MimeText' | 'MimeHtml';
  DeliveryReportEnabled?: boolean;
  DisplaySenderName?: boolean;
  IsInternal?: boolean;
  LineWrapSize?: number | 'Unlimited';
  MeetingForwardNotificationEnabled?: boolean;
  NDREnabled?: boolean;
  NonMimeCharacterSet?: string;
  TNEFEnabled?: boolean | null;
  TrustedMailInboundEnabled?: boolean;
  TrustedMailOutboundEnabled?: boolean;
  UseSimpleDisplayName?: boolean;
}

/** Set-OrganizationConfig parameters (a common subset; use ExchangeSettings for the rest). */
export interface OrganizationConfigProperties {
  AuditDisabled?: boolean;
  OAuth2ClientProfileEnabled?: boolean;
  CustomerLockboxEnabled?: boolean;
  FocusedInboxOn?: boolean;
  ReadTrackingEnabled?: boolean;
  SendFromAliasEnabled?: boolean;
  SmtpActionableMessagesEnabled?: boolean;
  ConnectorsEnabled?: boolean;
  BookingsEnabled?: boolean;
  MailTipsAllTipsEnabled?: boolean;
  MailTipsExternalRecipientsTipsEnabled?: boolean;
  MailTipsGroupMetricsEnabled?: boolean;
  MailTipsMailboxSourcedTipsEnabled?: boolean;
  MailTipsLargeAudienceThreshold?: number;
  PublicFoldersEnabled?: 'Local' | 'Remote' | 'None';
  ActivityBasedAuthenticationTimeoutEnabled?: boolean;
  /** A TimeSpan as text, e.g. `06:00:00`. */
  ActivityBasedAuthenticationTimeoutInterval?: string;
  DefaultAuthenticationPolicy?: string;
  EwsEnabled?: boolean | null;
}

/** Set-AdminAuditLogConfig parameters. */
export interface AdminAuditLogConfigProperties {
  UnifiedAuditLogIngestionEnabled?: boolean;
  AdminAuditLogEnabled?: boolean;
  AdminAuditLogCmdlets?: string[];
  AdminAuditLogExcludedCmdlets?: string[];
  /** A TimeSpan as text, e.g. `90.00:00:00`. */
  AdminAuditLogAgeLimit?: string;
}
