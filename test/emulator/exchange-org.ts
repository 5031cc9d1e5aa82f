/**
 * A tenant's organisation as the emulated Exchange admin API sees it: mailboxes, accepted domains, singletons
 * (OrganizationConfig, TransportConfig, AdminAuditLogConfig) and a generic store of named objects per noun, so
 * New-/Get-/Set-/Remove-<Noun> work for any noun (TransportRule, RemoteDomain, …) with the service's errors.
 * Cmdlets here run on parameters already decoded from the wire (hashtable tags checked and removed by the caller).
 */
import { createHash, randomUUID } from 'node:crypto';
import { EXO, innerError, type AdminAnswer } from './exchange-errors.ts';

export type Row = Record<string, unknown>;

export type CmdletOutcome =
  { ok: true; rows: Row[]; warnings: string[] } | { ok: false; answer: AdminAnswer };

/** The module's own warning when ResultSize is absent and the cmdlet stopped at its default of 1000. */
export const RESULT_SIZE_WARNING =
  'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.';

export const DEFAULT_RESULT_SIZE = 1000;

const SINGLETONS = ['OrganizationConfig', 'TransportConfig', 'AdminAuditLogConfig'] as const;

/** Nouns that are read through more than one cmdlet name. */
const NOUN_ALIASES: Readonly<Record<string, string>> = {
  EXOMailbox: 'Mailbox',
  Recipient: 'Mailbox',
  EXORecipient: 'Mailbox',
};

/** Parameters every cmdlet takes (PowerShell's common parameters and the confirmation switches). */
const COMMON = new Set(
  ['Confirm', 'WhatIf', 'ErrorAction', 'WarningAction', 'Verbose', 'Debug', 'DomainController', 'Force'].map(
    (p) => p.toLowerCase(),
  ),
);

/** Get-Mailbox's parameters (a subset of the real ones): others fail as PowerShell's binder does. */
const MAILBOX_READ_PARAMETERS = new Set(
  [
    'Identity',
    'ResultSize',
    'Filter',
    'Anr',
    'RecipientTypeDetails',
    'PropertySets',
    'Properties',
    'Archive',
    'SoftDeletedMailbox',
    'InactiveMailboxOnly',
    'IncludeInactiveMailbox',
    'OrganizationalUnit',
    'SortBy',
    'UserPrincipalName',
    'PrimarySmtpAddress',
  ].map((p) => p.toLowerCase()),
);

const IDENTITY_KEYS = [
  'Identity',
  'Name',
  'Alias',
  'PrimarySmtpAddress',
  'UserPrincipalName',
  'Guid',
  'ExternalDirectoryObjectId',
  'DistinguishedName',
  'DomainName',
];

/** A stable GUID from text, so seeded objects keep their ids across emulator resets. */
function guidOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function lower(value: unknown): string {
  return typeof value === 'string' ? value.toLowerCase() : '';
}

/** A parameter value as text for messages and comparisons: scalars as PowerShell prints them, others as JSON. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === undefined ? '' : JSON.stringify(value);
}

export class Organization {
  /** noun → lower-cased name → object. */
  readonly store = new Map<string, Map<string, Row>>();
  readonly singletons = new Map<string, Row>();

  readonly tenantId: string;
  readonly domains: readonly string[];
  readonly endpoint: 'exchange' | 'compliance';
  /** Who applies the default ResultSize of 1000 and says so: the service ('server') or the client. */
  resultSizeBy: 'server' | 'client' = 'server';

  // Plain fields, not parameter properties: scripts load the emulator with Node's type stripping.
  constructor(
    tenantId: string,
    domains: readonly string[],
    endpoint: 'exchange' | 'compliance',
    mailboxes: number,
  ) {
    this.tenantId = tenantId;
    this.domains = domains;
    this.endpoint = endpoint;
    const org = this.initialDomain;
    this.singletons.set('OrganizationConfig', {
      Name: org.split('.')[0] ?? org,
      DisplayName: org.split('.')[0] ?? org,
      Identity: org,
      Guid: guidOf(`${tenantId}/org`),
      AuditDisabled: false,
      OAuth2ClientProfileEnabled: true,
      CustomerLockboxEnabled: false,
      MailTipsAllTipsEnabled: true,
      SmtpActionableMessagesEnabled: true,
      IsDehydrated: false,
    });
    this.singletons.set('TransportConfig', {
      Identity: 'Transport Settings',
      Name: 'Transport Settings',
      SmtpClientAuthenticationDisabled: true,
      MaxSendSize: '35 MB (36,700,160 bytes)',
      MaxReceiveSize: '36 MB (37,748,736 bytes)',
      ExternalPostmasterAddress: null,
    });
    this.singletons.set('AdminAuditLogConfig', {
      Identity: 'Admin Audit Log Settings',
      Name: 'Admin Audit Log Settings',
      AdminAuditLogEnabled: true,
      UnifiedAuditLogIngestionEnabled: true,
      AdminAuditLogCmdlets: ['*'],
    });
    const domainsStore = this.nouns('AcceptedDomain');
    for (const [i, domain] of domains.entries()) {
      domainsStore.set(domain.toLowerCase(), {
        Name: domain,
        Identity: domain,
        DomainName: domain,
        DomainType: 'Authoritative',
        Default: i === 0,
        InitialDomain: domain.endsWith('.onmicrosoft.com') || i === 0,
        Guid: guidOf(`${tenantId}/domain/${domain}`),
      });
    }
    if (endpoint === 'exchange') this.seedMailboxes(mailboxes);
  }

  get initialDomain(): string {
    return (
      this.domains.find((d) => /\.onmicrosoft\.|\.onmschina\./.test(d)) ??
      this.domains[0] ??
      'contoso.onmicrosoft.com'
    );
  }

  nouns(noun: string): Map<string, Row> {
    let map = this.store.get(noun);
    if (!map) {
      map = new Map();
      this.store.set(noun, map);
    }
    return map;
  }

  /** Replaces the mailboxes with `count` seeded ones (user0001…), e.g. 2 500 for the bench. */
  seedMailboxes(count: number): void {
    const map = this.nouns('Mailbox');
    map.clear();
    const domain = this.initialDomain;
    for (let i = 1; i <= count; i++) {
      const alias = `user${String(i).padStart(4, '0')}`;
      map.set(alias, mailboxRow(this.tenantId, alias, `User ${i}`, domain));
    }
  }

  /** Runs one cmdlet: rows to return (before ResultSize, paging and $select) and warnings. */
  run(cmdlet: string, parameters: Row): CmdletOutcome {
    const match = /^([A-Za-z]+)-([A-Za-z0-9]+)$/.exec(cmdlet);
    if (!match) return { ok: false, answer: EXO.unknownCmdlet(cmdlet) };
    const verb = (match[1] ?? '').toLowerCase();
    const rawNoun = match[2] ?? '';
    const noun = NOUN_ALIASES[rawNoun] ?? rawNoun;
    const singleton = SINGLETONS.find((s) => s.toLowerCase() === noun.toLowerCase());
    if (singleton) return this.runSingleton(cmdlet, verb, singleton, parameters);
    if (noun === 'Mailbox' && verb === 'get') {
      const unknown = Object.keys(parameters).find(
        (p) => !MAILBOX_READ_PARAMETERS.has(p.toLowerCase()) && !COMMON.has(p.toLowerCase()),
      );
      if (unknown !== undefined) return { ok: false, answer: EXO.parameterNotFound(unknown) };
    }
    switch (verb) {
      case 'get':
        return this.get(noun, parameters);
      case 'new':
        return this.create(cmdlet, noun, parameters);
      case 'set':
        return this.update(cmdlet, noun, parameters);
      case 'remove':
        return this.remove(cmdlet, noun, parameters);
      case 'enable':
      case 'disable':
        return this.toggle(cmdlet, noun, parameters, verb === 'enable');
      default:
        return { ok: false, answer: EXO.unknownCmdlet(cmdlet) };
    }
  }

  private runSingleton(cmdlet: string, verb: string, noun: string, parameters: Row): CmdletOutcome {
    const row = this.singletons.get(noun) ?? {};
    if (verb === 'get') return { ok: true, rows: [row], warnings: [] };
    if (verb !== 'set') return { ok: false, answer: EXO.unknownCmdlet(cmdlet) };
    const changed = applySettings(row, parameters);
    this.singletons.set(noun, row);
    return { ok: true, rows: [], warnings: changed ? [] : [noChange(text(row['Identity'] ?? noun))] };
  }

  private find(noun: string, identity: unknown): [string, Row] | undefined {
    const wanted = lower(text(identity));
    for (const entry of this.nouns(noun)) {
      if (IDENTITY_KEYS.some((k) => lower(entry[1][k]) === wanted)) return entry;
    }
    return undefined;
  }

  private get(noun: string, parameters: Row): CmdletOutcome {
    const identity = param(parameters, 'Identity');
    if (identity !== undefined) {
      const found = this.find(noun, identity);
      if (!found) return { ok: false, answer: EXO.notFound(text(identity)) };
      return { ok: true, rows: [found[1]], warnings: [] };
    }
    let rows = [...this.nouns(noun).values()];
    const filter = param(parameters, 'Filter');
    if (filter !== undefined) {
      const predicate = parseFilter(text(filter));
      if (!predicate) {
        return {
          ok: false,
          answer: innerError(
            400,
            'System.Management.Automation.ParameterBindingException',
            `Cannot bind parameter 'Filter' to the target. Exception setting "Filter": "Invalid filter syntax. For a description of the filter parameter syntax see the command help. "${text(filter)}" at position 1."`,
          ),
        };
      }
      rows = rows.filter(predicate);
    }
    const anr = param(parameters, 'Anr');
    if (anr !== undefined) {
      const needle = lower(text(anr));
      rows = rows.filter((r) =>
        ['Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress'].some((k) => lower(r[k]).startsWith(needle)),
      );
    }
    return this.limit(rows, parameters);
  }

  /**
   * ResultSize: absent → 1000 and the module's notice in @adminapi.warnings when more exist (the emulator's
   * default, 'server'), or, with 'client', every row paged and no notice, leaving the 1000 and the notice to the
   * client as the module does them (exchange-admin-api.md); a number; Unlimited.
   */
  private limit(rows: Row[], parameters: Row): CmdletOutcome {
    const size = param(parameters, 'ResultSize');
    if (size === undefined && this.resultSizeBy === 'client') return { ok: true, rows, warnings: [] };
    let limit = DEFAULT_RESULT_SIZE;
    if (size !== undefined) {
      if (typeof size === 'string' && size.trim().toLowerCase() === 'unlimited') limit = Infinity;
      else {
        const n = typeof size === 'number' ? size : /^\s*\d+\s*$/.test(text(size)) ? Number(size) : NaN;
        if (!Number.isInteger(n) || n < 1) return { ok: false, answer: EXO.resultSize(size) };
        limit = n;
      }
    }
    const warnings = size === undefined && rows.length > limit ? [RESULT_SIZE_WARNING] : [];
    return { ok: true, rows: rows.slice(0, limit), warnings };
  }

  private create(cmdlet: string, noun: string, parameters: Row): CmdletOutcome {
    const name = param(parameters, 'Name');
    if (typeof name !== 'string' || name === '')
      return { ok: false, answer: EXO.missingParameter(cmdlet, 'Name') };
    if (this.find(noun, name)) return { ok: false, answer: EXO.alreadyExists(noun, name) };
    const now = new Date().toISOString();
    const base: Row =
      noun === 'Mailbox'
        ? mailboxRow(this.tenantId, text(param(parameters, 'Alias') ?? name), name, this.initialDomain)
        : {
            Name: name,
            Identity: name,
            Guid: randomUUID(),
            DistinguishedName: `CN=${name},CN=${noun},CN=Configuration,CN=${this.initialDomain}`,
            WhenCreated: now,
          };
    const row: Row = { ...base };
    applySettings(row, parameters);
    row['WhenChanged'] = now;
    this.nouns(noun).set(name.toLowerCase(), row);
    return { ok: true, rows: [row], warnings: [] };
  }

  private update(cmdlet: string, noun: string, parameters: Row): CmdletOutcome {
    const identity = param(parameters, 'Identity');
    if (identity === undefined) return { ok: false, answer: EXO.missingParameter(cmdlet, 'Identity') };
    const found = this.find(noun, identity);
    if (!found) return { ok: false, answer: EXO.notFound(text(identity)) };
    const [key, row] = found;
    const changed = applySettings(row, parameters);
    if (changed) row['WhenChanged'] = new Date().toISOString();
    // A rename moves the object to its new name (its Identity follows, as Exchange's does for most nouns).
    const renamed = param(parameters, 'Name');
    if (typeof renamed === 'string' && renamed.toLowerCase() !== key) {
      this.nouns(noun).delete(key);
      row['Identity'] = renamed;
      this.nouns(noun).set(renamed.toLowerCase(), row);
    }
    return { ok: true, rows: [], warnings: changed ? [] : [noChange(text(identity))] };
  }

  private remove(cmdlet: string, noun: string, parameters: Row): CmdletOutcome {
    const identity = param(parameters, 'Identity');
    if (identity === undefined) return { ok: false, answer: EXO.missingParameter(cmdlet, 'Identity') };
    const found = this.find(noun, identity);
    if (!found) return { ok: false, answer: EXO.notFound(text(identity)) };
    this.nouns(noun).delete(found[0]);
    return { ok: true, rows: [], warnings: [] };
  }

  private toggle(cmdlet: string, noun: string, parameters: Row, enabled: boolean): CmdletOutcome {
    const identity = param(parameters, 'Identity');
    if (identity === undefined) return { ok: false, answer: EXO.missingParameter(cmdlet, 'Identity') };
    const found = this.find(noun, identity);
    if (!found) return { ok: false, answer: EXO.notFound(text(identity)) };
    const row = found[1];
    const state = enabled ? 'Enabled' : 'Disabled';
    if (row['State'] === state && row['Enabled'] === enabled) {
      return { ok: true, rows: [], warnings: [noChange(text(identity))] };
    }
    Object.assign(row, { State: state, Enabled: enabled, WhenChanged: new Date().toISOString() });
    return { ok: true, rows: [], warnings: [] };
  }
}

function noChange(identity: string): string {
  return `The command completed successfully but no settings of '${identity}' have been modified.`;
}

/** A parameter by name, case-insensitively, as PowerShell binds them. */
export function param(parameters: Row, name: string): unknown {
  const key = Object.keys(parameters).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : parameters[key];
}

/**
 * Applies Set-/New- parameters to an object; `@{Add=…; Remove=…}` edits a multi-valued property as Exchange does.
 * Returns whether anything changed.
 */
function applySettings(row: Row, parameters: Row): boolean {
  let changed = false;
  for (const [rawKey, value] of Object.entries(parameters)) {
    const lowerKey = rawKey.toLowerCase();
    if (lowerKey === 'identity' || COMMON.has(lowerKey)) continue;
    const key = Object.keys(row).find((k) => k.toLowerCase() === lowerKey) ?? rawKey;
    const next = editValue(row[key], value);
    if (JSON.stringify(next) !== JSON.stringify(row[key])) {
      row[key] = next;
      changed = true;
    }
  }
  return changed;
}

function editValue(current: unknown, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const edit = value as Row;
  const add = param(edit, 'Add');
  const remove = param(edit, 'Remove');
  if (add === undefined && remove === undefined) return value;
  const list = Array.isArray(current) ? [...(current as unknown[])] : current == null ? [] : [current];
  const toList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const removing = new Set(toList(remove).map((v) => lower(text(v))));
  const kept = list.filter((v) => !removing.has(lower(text(v))));
  for (const v of toList(add)) if (!kept.some((k) => lower(text(k)) === lower(text(v)))) kept.push(v);
  return kept;
}

/** OPATH as far as tests need it: `Prop -eq 'v'`, `-ne`, `-like 'v*'`, joined by -and. */
export function parseFilter(source: string): ((row: Row) => boolean) | undefined {
  const clauses = source
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .split(/\s+-and\s+/i);
  const tests: ((row: Row) => boolean)[] = [];
  for (const clause of clauses) {
    const m = /^\(?\s*([A-Za-z]+)\s+-(eq|ne|like)\s+(?:'([^']*)'|"([^"]*)"|(\S+?))\s*\)?$/i.exec(
      clause.trim(),
    );
    if (!m) return undefined;
    const [, prop = '', op = '', a, b, c] = m;
    const expected = (a ?? b ?? c ?? '').toLowerCase();
    if (c !== undefined && c.startsWith('$')) return undefined; // $true must reach the service as 'True'
    const valueOf = (row: Row): string => {
      const key = Object.keys(row).find((k) => k.toLowerCase() === prop.toLowerCase());
      return key === undefined ? '' : text(row[key]).toLowerCase();
    };
    const pattern = new RegExp(`^${expected.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    tests.push((row) => {
      const actual = valueOf(row);
      if (op.toLowerCase() === 'eq') return actual === expected;
      if (op.toLowerCase() === 'ne') return actual !== expected;
      return pattern.test(actual);
    });
  }
  return (row) => tests.every((t) => t(row));
}

function mailboxRow(tenantId: string, alias: string, displayName: string, domain: string): Row {
  const smtp = `${alias}@${domain}`;
  const guid = guidOf(`${tenantId}/mailbox/${alias}`);
  return {
    Name: alias,
    Alias: alias,
    DisplayName: displayName,
    Identity: alias,
    Id: alias,
    DistinguishedName: `CN=${alias},OU=${domain},OU=Microsoft Exchange Hosted Organizations,DC=NAMPR01A001,DC=PROD,DC=OUTLOOK,DC=COM`,
    Guid: guid,
    ExchangeGuid: guidOf(`${tenantId}/exchange/${alias}`),
    ExternalDirectoryObjectId: guidOf(`${tenantId}/aad/${alias}`),
    UserPrincipalName: smtp,
    PrimarySmtpAddress: smtp,
    WindowsEmailAddress: smtp,
    EmailAddresses: [
      `SMTP:${smtp}`,
      `smtp:${alias}@${domain.replace(/\.onmicrosoft\./, '.mail.onmicrosoft.')}`,
    ],
    RecipientType: 'UserMailbox',
    RecipientTypeDetails: 'UserMailbox',
    IsMailboxEnabled: true,
    AuditEnabled: true,
    AuditLogAgeLimit: '90.00:00:00',
    LitigationHoldEnabled: false,
    RetentionPolicy: 'Default MRM Policy',
    ForwardingSmtpAddress: null,
    DeliverToMailboxAndForward: false,
    HiddenFromAddressListsEnabled: false,
    ProhibitSendQuota: '99 GB (106,300,440,576 bytes)',
    ProhibitSendReceiveQuota: '100 GB (107,374,182,400 bytes)',
    IssueWarningQuota: '98 GB (105,226,698,752 bytes)',
    MaxSendSize: '35 MB (36,700,160 bytes)',
    MaxReceiveSize: '36 MB (37,748,736 bytes)',
    UsageLocation: 'United States',
    Database: 'NAMPR01DG001-db001',
    ServerName: 'nampr01mb0001',
    WhenCreated: '2024-03-01T09:00:00Z',
    WhenChanged: '2025-11-20T17:30:00Z',
    WhenMailboxCreated: '2024-03-01T09:00:05Z',
  };
}

const DATA_TYPES: Readonly<Record<string, string>> = {
  Guid: 'System.Guid',
  ExchangeGuid: 'System.Guid',
  ProhibitSendQuota: 'Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]',
  ProhibitSendReceiveQuota: 'Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]',
  IssueWarningQuota: 'Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]',
  AuditLogAgeLimit: 'Microsoft.Exchange.Data.EnhancedTimeSpan',
};

/**
 * A row as the service serialises it: each property preceded by its annotation keys (`Guid@odata.type`,
 * `ProhibitSendQuota@data.type`, `EmailAddresses@odata.type` …). The service never strips them; clients must.
 * `select` keeps only the named properties (and their annotations).
 */
export function serialise(row: Row, select: readonly string[] | undefined): Row {
  const out: Row = {};
  const wanted = select?.map((s) => s.toLowerCase());
  for (const [key, value] of Object.entries(row)) {
    if (wanted && !wanted.includes(key.toLowerCase())) continue;
    if (key === 'Guid' || key === 'ExchangeGuid') out[`${key}@odata.type`] = '#Guid';
    const dataType = DATA_TYPES[key];
    if (dataType) out[`${key}@data.type`] = dataType;
    if (Array.isArray(value)) out[`${key}@odata.type`] = '#Collection(String)';
    else if (/^When/.test(key)) out[`${key}@odata.type`] = '#DateTimeOffset';
    out[key] = value;
  }
  return out;
}
