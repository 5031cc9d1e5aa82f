/**
 * The dynamic resources a Pulumi program declares. They run in the program's process and only describe inputs;
 * every call to Exchange happens in the provider (provider.ts) inside Pulumi's dynamic-provider host.
 */
import * as pulumi from '@pulumi/pulumi';
import type { ExchangeConnection } from './connection.js';
import {
  FAMILIES,
  type AdminAuditLogConfigProperties,
  type FamilySpec,
  type OrganizationConfigProperties,
  type RemoteDomainProperties,
  type TransportRuleProperties,
} from './families.js';
import { serializedObjectProvider, serializedSettingsProvider } from './serialized.js';

/** Type tokens read `pulumi-nodejs:dynamic/exchange:<Type>` in `pulumi up` and in the state. */
const MODULE = 'exchange';

export type ConnectionInput = pulumi.Input<{
  [K in keyof ExchangeConnection]?: pulumi.Input<ExchangeConnection[K]>;
}>;

/** Exchange parameters with Pulumi inputs as values. */
export type PropertyInputs<T> = { [K in keyof T]?: pulumi.Input<T[K]> };

export interface ExchangeObjectArgs {
  /** Tenant and app; every field falls back to the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, …). */
  connection?: ConnectionInput;
  /** The cmdlet noun: `TransportRule` for New-/Get-/Set-/Remove-TransportRule. */
  noun: pulumi.Input<string>;
  /** -Name given to New-<Noun>; changing it replaces the object. */
  name: pulumi.Input<string>;
  /** Parameters to manage, by their cmdlet names. Only these are read back and compared. */
  properties?: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
  /** Parameters only New-<Noun> takes: changing one replaces the object. */
  createOnly?: pulumi.Input<string[]>;
  /** Parameters only Set-<Noun> takes: applied by Set-<Noun> right after New-<Noun>. */
  setOnly?: pulumi.Input<string[]>;
  /** `State` ('Enabled' | 'Disabled') is switched with Enable-/Disable-<Noun>; New-<Noun> gets -Enabled. */
  enableCmdlets?: pulumi.Input<boolean>;
}

/**
 * Any Exchange object managed with New-/Get-/Set-/Remove-<Noun>. Import an existing one with the resource option
 * `{ import: '<its name or GUID>' }`; the declared properties must then match the tenant's.
 */
export class ExchangeObject<P extends object = Record<string, unknown>> extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ExchangeConnection>;
  declare readonly noun: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  /** The declared properties as Exchange last returned them. */
  declare readonly properties: pulumi.Output<P>;
  /** What later calls pass as -Identity: the object's GUID when Exchange returns one. */
  declare readonly identity: pulumi.Output<string>;

  constructor(
    name: string,
    args: ExchangeObjectArgs,
    opts?: pulumi.CustomResourceOptions,
    type = 'ExchangeObject',
  ) {
    super(
      serializedObjectProvider,
      name,
      {
        connection: args.connection ?? {},
        noun: args.noun,
        name: args.name,
        properties: args.properties ?? {},
        createOnly: args.createOnly ?? [],
        setOnly: args.setOnly ?? [],
        enableCmdlets: args.enableCmdlets ?? false,
        identity: undefined,
      },
      opts,
      MODULE,
      type,
    );
  }
}

export interface ExchangeSettingsArgs {
  connection?: ConnectionInput;
  /** The cmdlet noun: `OrganizationConfig` for Get-/Set-OrganizationConfig. */
  noun: pulumi.Input<string>;
  /** -Identity for per-object settings (e.g. HostedContentFilterPolicy `Default`); leave out for singletons. */
  identity?: pulumi.Input<string>;
  properties: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
}

/**
 * Settings of a singleton managed with Get-/Set-<Noun> (OrganizationConfig, TransportConfig, AdminAuditLogConfig,
 * …). Only the declared properties are managed. Deleting the resource leaves the tenant's values as they are (it
 * says so in the `pulumi up` output); the values found before Pulumi first set them are kept in `before`.
 */
export class ExchangeSettings<P extends object = Record<string, unknown>> extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ExchangeConnection>;
  declare readonly noun: pulumi.Output<string>;
  declare readonly identity: pulumi.Output<string | undefined>;
  /** The declared properties as Exchange last returned them. */
  declare readonly properties: pulumi.Output<P>;
  declare readonly before: pulumi.Output<Record<string, unknown>>;

  constructor(
    name: string,
    args: ExchangeSettingsArgs,
    opts?: pulumi.CustomResourceOptions,
    type = 'ExchangeSettings',
  ) {
    super(
      serializedSettingsProvider,
      name,
      {
        connection: args.connection ?? {},
        noun: args.noun,
        identity: args.identity,
        properties: args.properties,
        before: undefined,
      },
      opts,
      MODULE,
      type,
    );
  }
}

function objectArgs<T extends object>(
  family: FamilySpec,
  connection: ConnectionInput | undefined,
  name: pulumi.Input<string>,
  properties: PropertyInputs<T>,
): ExchangeObjectArgs {
  return {
    ...(connection !== undefined && { connection }),
    noun: family.noun,
    name,
    properties: properties,
    createOnly: [...family.createOnly],
    setOnly: [...family.setOnly],
    enableCmdlets: family.enableCmdlets,
  };
}

type Split<T> = { connection?: ConnectionInput; Name: pulumi.Input<string> } & PropertyInputs<T>;

function splitArgs<T>(args: Split<T>): {
  connection?: ConnectionInput;
  name: pulumi.Input<string>;
  rest: PropertyInputs<T>;
} {
  const { connection, Name, ...rest } = args;
  return { ...(connection !== undefined && { connection }), name: Name, rest: rest as PropertyInputs<T> };
}

export type TransportRuleArgs = Split<TransportRuleProperties>;

/** A mail flow (transport) rule: New-/Get-/Set-/Remove-TransportRule. New rules are enabled. */
export class TransportRule extends ExchangeObject<TransportRuleProperties> {
  constructor(name: string, args: TransportRuleArgs, opts?: pulumi.CustomResourceOptions) {
    const { connection, name: ruleName, rest } = splitArgs(args);
    super(name, objectArgs(FAMILIES.TransportRule, connection, ruleName, rest), opts, 'TransportRule');
  }
}

export type RemoteDomainArgs = Split<Omit<RemoteDomainProperties, 'DomainName'>> & {
  DomainName: pulumi.Input<string>;
};

/** A remote domain (New-/Get-/Set-/Remove-RemoteDomain): message format and auto-reply/forward settings per domain. */
export class RemoteDomain extends ExchangeObject<RemoteDomainProperties> {
  constructor(name: string, args: RemoteDomainArgs, opts?: pulumi.CustomResourceOptions) {
    const { connection, name: domainName, rest } = splitArgs<RemoteDomainProperties>(args);
    super(name, objectArgs(FAMILIES.RemoteDomain, connection, domainName, rest), opts, 'RemoteDomain');
  }
}

export type SettingsArgs<T> = { connection?: ConnectionInput } & PropertyInputs<T>;

function settingsArgs<T>(noun: string, args: SettingsArgs<T>): ExchangeSettingsArgs {
  const { connection, ...properties } = args;
  return {
    ...(connection !== undefined && { connection }),
    noun,
    properties: properties,
  };
}

export type OrganizationConfigArgs = SettingsArgs<OrganizationConfigProperties>;

/** The tenant's organisation settings (Get-/Set-OrganizationConfig). Deleting it changes nothing in the tenant. */
export class OrganizationConfig extends ExchangeSettings<OrganizationConfigProperties> {
  constructor(name: string, args: OrganizationConfigArgs, opts?: pulumi.CustomResourceOptions) {
    super(name, settingsArgs('OrganizationConfig', args), opts, 'OrganizationConfig');
  }
}

export type AdminAuditLogConfigArgs = SettingsArgs<AdminAuditLogConfigProperties>;

/** Audit logging settings (Get-/Set-AdminAuditLogConfig). Deleting it changes nothing in the tenant. */
export class AdminAuditLogConfig extends ExchangeSettings<AdminAuditLogConfigProperties> {
  constructor(name: string, args: AdminAuditLogConfigArgs, opts?: pulumi.CustomResourceOptions) {
    super(name, settingsArgs('AdminAuditLogConfig', args), opts, 'AdminAuditLogConfig');
  }
}
