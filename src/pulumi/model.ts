/**
 * Pure logic of the dynamic resources: input checks, diffs and the comparison of declared values with what
 * Exchange returns. No I/O: the provider (provider.ts) runs cmdlets and hands their rows here.
 */
import { logText } from '../core/workflow-commands.js';
import type { ExchangeConnection } from './connection.js';

/** Pulumi's placeholder for a value not known during preview (an unresolved Output). */
export const UNKNOWN_VALUE = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

export type Properties = Record<string, unknown>;

/** A New-/Get-/Set-/Remove-<Noun> object, as declared. */
export interface ObjectInputs {
  connection: ExchangeConnection;
  noun: string;
  /** -Name for New-<Noun>; changing it replaces the object. */
  name: string;
  /** Managed parameters, by their cmdlet names; only these are read back and diffed. */
  properties: Properties;
  /** Parameters only New-<Noun> takes: changing one replaces the object. */
  createOnly: string[];
  /** Parameters only Set-<Noun> takes: create runs New-<Noun> without them, then Set-<Noun> with them. */
  setOnly: string[];
  /**
   * `State` ('Enabled' | 'Disabled') is switched with Enable-/Disable-<Noun>, and New-<Noun> takes it as -Enabled
   * (TransportRule, JournalRule, …).
   */
  enableCmdlets: boolean;
}

export interface ObjectOutputs extends ObjectInputs {
  /** What -Identity is given on later calls: the object's Guid when Exchange returns one, else its Identity. */
  identity: string;
}

/** A singleton managed with Get-/Set-<Noun> (OrganizationConfig, TransportConfig, …). */
export interface SettingsInputs {
  connection: ExchangeConnection;
  noun: string;
  /** -Identity for per-object settings such as `HostedContentFilterPolicy` `Default`; absent for singletons. */
  identity?: string;
  properties: Properties;
}

export interface SettingsOutputs extends SettingsInputs {
  /** The declared properties' values before Pulumi first set them: deleting the resource does not restore them. */
  before: Properties;
}

export interface Failure {
  property: string;
  reason: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
/** Parameters the provider itself passes; declaring them would fight it. */
const RESERVED = new Set(['identity', 'name', 'confirm', 'whatif', 'resultsize', 'erroraction']);

/**
 * Server text reaches the log as one plain line: no control characters or escape sequences to steer a terminal,
 * and, since `pulumi up` in GitHub Actions prints it to the runner's stdout, no `::cmd::` or `##[cmd]` either.
 */
export function plainLine(text: string): string {
  return logText(
    text
      // eslint-disable-next-line no-control-regex -- that is what it removes
      .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN_VALUE;
}

/** Checks a noun and declared properties; names are reported as the program spells them. */
export function checkNounAndProperties(noun: unknown, properties: unknown): Failure[] {
  const failures: Failure[] = [];
  if (typeof noun !== 'string' || !NAME.test(noun))
    failures.push({
      property: 'noun',
      reason: `must be a cmdlet noun such as TransportRule (letters and digits), not ${JSON.stringify(noun)}`,
    });
  if (properties === undefined) return failures;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    failures.push({ property: 'properties', reason: 'must be an object of cmdlet parameters' });
    return failures;
  }
  for (const [key, value] of Object.entries(properties)) {
    const property = `properties.${key}`;
    if (!NAME.test(key)) failures.push({ property, reason: 'is not a cmdlet parameter name' });
    else if (RESERVED.has(key.toLowerCase()))
      failures.push({ property, reason: `is set by the provider itself and cannot be declared` });
    else if (isHashtable(value))
      failures.push({
        property,
        reason:
          'is a hashtable (such as @{Add=…}): that is an operation, not a state to converge to; declare the whole value instead',
      });
  }
  return failures;
}

function isHashtable(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isHashtable);
  return typeof value === 'object' && value !== null && !(value instanceof Date);
}

/** Checks a list of property names (createOnly, setOnly) against the declared properties. */
export function checkNameList(list: unknown, field: string): Failure[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || !NAME.test(n)))
    return [{ property: field, reason: 'must be a list of cmdlet parameter names' }];
  return [];
}

/** Declared value equals what Exchange returned, in the loose sense Exchange itself compares parameters. */
export function sameValue(declared: unknown, actual: unknown): boolean {
  if (isUnknown(declared)) return false;
  if (isEmpty(declared) && isEmpty(actual)) return true;
  if (Array.isArray(declared) || Array.isArray(actual)) {
    const a = asList(declared);
    const b = asList(actual);
    // Multi-valued Exchange properties are sets: order does not matter.
    const unmatched = [...b];
    return (
      a.length === b.length &&
      a.every((item) => {
        const at = unmatched.findIndex((other) => sameValue(item, other));
        if (at < 0) return false;
        unmatched.splice(at, 1);
        return true;
      })
    );
  }
  if (declared instanceof Date) return sameValue(declared.toISOString(), actual);
  if (isScalar(declared) && isScalar(actual))
    // Exchange is case-insensitive for names and enum values, and returns numbers and booleans as text at times.
    return String(declared).toLowerCase() === String(actual).toLowerCase();
  return JSON.stringify(declared) === JSON.stringify(actual);
}

function isEmpty(value: unknown): boolean {
  return (
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
  );
}

function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return isEmpty(value) ? [] : [value];
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Declared keys whose value differs from the recorded one. */
export function changedKeys(declared: Properties, recorded: Properties): string[] {
  return Object.keys(declared).filter((key) => !sameValue(declared[key], recorded[key]));
}

/** The declared keys' values from a row Exchange returned (missing ones as null). */
export function pick(row: Record<string, unknown>, keys: readonly string[]): Properties {
  const lower = new Map(Object.keys(row).map((k) => [k.toLowerCase(), k]));
  const out: Properties = {};
  for (const key of keys) {
    const actual = lower.get(key.toLowerCase());
    out[key] = actual === undefined ? null : row[actual];
  }
  return out;
}

export interface Diff {
  changes: boolean;
  replaces: string[];
  /** Keys the program changed or started managing. */
  changed: string[];
  deleteBeforeReplace: boolean;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Another tenant means other objects (a replacement). A GUID and a domain cannot be compared without asking
 * Entra, and writing the same tenant the other way is a common edit: that alone replaces nothing.
 */
export function sameTenant(a: ExchangeConnection, b: ExchangeConnection): boolean {
  const [x, y] = [(a.tenantId ?? '').toLowerCase(), (b.tenantId ?? '').toLowerCase()];
  return x === y || GUID.test(x) !== GUID.test(y);
}

function droppedKeys(olds: Properties, news: Properties): string[] {
  return Object.keys(olds).filter((k) => !(k in news));
}

/** What `pulumi up` must do for an Exchange object: nothing, Set-<Noun>, or a replacement. */
export function diffObject(olds: ObjectOutputs, news: ObjectInputs): Diff {
  const { replaces, changed, stateOnly } = diffCommon(olds, news);
  const renamed = !sameValue(news.name, olds.name);
  if (renamed) replaces.push('name');
  const createOnly = new Set(news.createOnly.map((k) => k.toLowerCase()));
  for (const key of changed) if (createOnly.has(key.toLowerCase())) replaces.push(`properties.${key}`);
  return {
    changes: replaces.length > 0 || changed.length > 0 || stateOnly,
    replaces,
    changed,
    // A replacement with the same name would collide with the object it replaces ("already exists").
    deleteBeforeReplace: replaces.length > 0 && !renamed,
  };
}

/** What `pulumi up` must do for a settings singleton: nothing or Set-<Noun>; a new tenant or noun is a new one. */
export function diffSettings(olds: SettingsOutputs, news: SettingsInputs): Diff {
  const { replaces, changed, stateOnly } = diffCommon(olds, news);
  if (!sameValue(news.identity ?? '', olds.identity ?? '')) replaces.push('identity');
  return {
    changes: replaces.length > 0 || changed.length > 0 || stateOnly,
    replaces,
    changed,
    deleteBeforeReplace: false,
  };
}

interface Managed {
  connection: ExchangeConnection;
  noun: string;
  properties: Properties;
}

/**
 * What both resource kinds compare alike: another tenant or noun is another resource; changed properties are set;
 * a dropped property or a reworded connection changes only the state.
 */
function diffCommon(
  olds: Managed,
  news: Managed,
): { replaces: string[]; changed: string[]; stateOnly: boolean } {
  const replaces: string[] = [];
  if (!sameTenant(olds.connection, news.connection)) replaces.push('connection');
  if (olds.noun.toLowerCase() !== news.noun.toLowerCase()) replaces.push('noun');
  const changed = changedKeys(news.properties, olds.properties);
  const stateOnly =
    droppedKeys(olds.properties, news.properties).length > 0 ||
    JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
  return { replaces, changed, stateOnly };
}

/** The -Identity for later calls, from the row New-/Get-<Noun> returned. */
export function identityOf(row: Record<string, unknown> | undefined, fallback: string): string {
  for (const key of ['Guid', 'ExchangeObjectId', 'Identity']) {
    const value = row?.[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return fallback;
}

export function settingsId(noun: string, identity: string | undefined): string {
  return identity === undefined ? noun : `${noun}:${identity}`;
}

const STATE = 'state';
const isStateKey = (inputs: ObjectInputs, key: string): boolean =>
  inputs.enableCmdlets && key.toLowerCase() === STATE;

/** Pure: a declared State that Enable-/Disable-<Noun> can set, or the failure naming it. */
export function checkState(inputs: ObjectInputs): Failure[] {
  const key = Object.keys(inputs.properties).find((k) => isStateKey(inputs, k));
  const value = key === undefined ? undefined : inputs.properties[key];
  if (key === undefined || isUnknown(value) || (typeof value === 'string' && /^(en|dis)abled$/i.test(value)))
    return [];
  return [{ property: `properties.${key}`, reason: "must be 'Enabled' or 'Disabled'" }];
}

/** Splits declared properties into those New-<Noun> takes and those only Set-<Noun> takes. */
export function splitForCreate(inputs: ObjectInputs): { forNew: Properties; forSet: Properties } {
  const setOnly = new Set(inputs.setOnly.map((k) => k.toLowerCase()));
  const forNew: Properties = {};
  const forSet: Properties = {};
  for (const [key, value] of Object.entries(inputs.properties)) {
    // Created disabled rather than created and then disabled: a rule must not run for a moment by mistake.
    if (isStateKey(inputs, key)) forNew['Enabled'] = sameValue(value, 'Enabled');
    else (setOnly.has(key.toLowerCase()) ? forSet : forNew)[key] = value;
  }
  return { forNew, forSet };
}

/** For an update: the keys Set-<Noun> takes, and Enable-/Disable- when State changed. */
export function splitForUpdate(
  inputs: ObjectInputs,
  changed: readonly string[],
): { setKeys: string[]; toggle: 'Enable' | 'Disable' | undefined } {
  const stateKey = changed.find((k) => isStateKey(inputs, k));
  return {
    setKeys: changed.filter((k) => k !== stateKey),
    toggle:
      stateKey === undefined
        ? undefined
        : sameValue(inputs.properties[stateKey], 'Enabled')
          ? 'Enable'
          : 'Disable',
  };
}

/** Parameters for Set-<Noun>: the changed keys only (create-only ones never reach here: they replace). */
export function setParameters(properties: Properties, keys: readonly string[]): Properties {
  return Object.fromEntries(keys.map((k) => [k, properties[k]]));
}
