/**
 * Cmdlet parameters encoded as the ExchangeOnlineManagement module's Transform-Parameters sends them
 * (../shared/docs/exchange-admin-api.md): hashtables tagged `#Exchange.GenericHashTable` (recursively), arrays of
 * them flagged by a sibling `<Param>@odata.type` key, switches as booleans, dates as UTC, `undefined` dropped,
 * `$true`/`$false` inside -Filter rewritten to 'True'/'False'. Pure, so it is tested without a server.
 */
import { InputError } from '../core/errors.js';
import { field, quoted } from '../core/names.js';

export const HASHTABLE_TYPE = '#Exchange.GenericHashTable';
export const HASHTABLE_COLLECTION_TYPE = '#Collection(Exchange.GenericHashTable)';

const MAX_DEPTH = 32;

/** The body's Parameters object; throws InputError naming `input` (and the parameter) for values it cannot send. */
export function encodeParameters(
  parameters: Readonly<Record<string, unknown>> | undefined,
  input = 'parameters',
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (parameters === undefined) return out;
  if (!isPlainObject(parameters))
    throw new InputError(field(input), 'must be an object of parameter names to values.');
  for (const [name, value] of Object.entries(parameters)) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      throw new InputError(
        field(input),
        `has ${quoted(name)}, which is not a cmdlet parameter name (letters and digits).`,
      );
    }
    if (value === undefined) continue;
    const where = `${input}.${name}`;
    if (/^filter$/i.test(name) && typeof value === 'string') {
      out[name] = value.replace(/\$true\b/gi, "'True'").replace(/\$false\b/gi, "'False'");
      continue;
    }
    addEncoded(out, name, value, where, 0);
  }
  return out;
}

/** Sets `target[key]` to the encoded value, plus the collection tag when it is an array of hashtables. */
function addEncoded(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
  where: string,
  depth: number,
): void {
  if (value === undefined) return;
  if (Array.isArray(value) && value.some((item) => isHashtable(item))) {
    target[key] = value.map((item: unknown, i) => encodeValue(item, `${where}[${i}]`, depth + 1));
    target[`${key}@odata.type`] = HASHTABLE_COLLECTION_TYPE;
    return;
  }
  target[key] = encodeValue(value, where, depth);
}

function encodeValue(value: unknown, where: string, depth: number): unknown {
  if (depth > MAX_DEPTH)
    throw new InputError(field(where), `nests deeper than ${MAX_DEPTH} levels (a cycle?).`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InputError(field(where), `must be a finite number; got ${value}.`);
    return value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return utcDate(value, where);
  if (Array.isArray(value))
    return value.map((item: unknown, i) => encodeValue(item, `${where}[${i}]`, depth + 1));
  if (value instanceof Map) {
    return encodeHashtable(Object.fromEntries(value as Map<string, unknown>), where, depth);
  }
  if (isPlainObject(value)) return encodeHashtable(value, where, depth);
  // URL and other values that print themselves (TimeSpan-like strings).
  if (typeof value === 'object' && hasOwnToString(value)) return (value as { toString(): string }).toString();
  throw new InputError(
    field(where),
    `cannot be sent to Exchange (a ${typeof value}); use strings, numbers, booleans, dates, arrays or objects.`,
  );
}

function encodeHashtable(
  value: Record<string, unknown>,
  where: string,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.type': HASHTABLE_TYPE };
  for (const [key, item] of Object.entries(value)) {
    if (key === '@odata.type') continue;
    addEncoded(out, key, item, `${where}.${key}`, depth + 1);
  }
  return out;
}

/** DateTime as the module sends it: UTC, `yyyy-MM-ddTHH:mm:ss`. */
export function utcDate(value: Date, where = 'date'): string {
  if (Number.isNaN(value.getTime())) throw new InputError(field(where), 'is an invalid Date.');
  return value.toISOString().slice(0, 19);
}

function isHashtable(value: unknown): boolean {
  return value instanceof Map || isPlainObject(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function hasOwnToString(value: object): boolean {
  const own = (value as { toString?: unknown }).toString;
  return typeof own === 'function' && own !== Object.prototype.toString;
}

/** A row without the service's annotation keys (`Guid@odata.type`, `X@data.type`, `@odata.id` …), recursively. */
export function stripAnnotations(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(stripAnnotations);
  // Rows are thousands of flat objects: a plain loop, recursing only into nested values.
  const out: Record<string, unknown> = {};
  const source = value as Record<string, unknown>;
  for (const key in source) {
    if (key.includes('@') || !Object.hasOwn(source, key)) continue;
    const item = source[key];
    out[key] = typeof item === 'object' && item !== null ? stripAnnotations(item) : item;
  }
  return out;
}
