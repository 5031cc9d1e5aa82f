/**
 * How a message names a setting, and how it echoes a user's value. Every input error is formatted here, so a
 * 100 KB value or a list of 3 000 files cannot turn into a 100 KB annotation.
 */
import { escapeLegacyCommand } from './workflow-commands.js';

/** Where a setting is written: an action input, a CLI option or argument, or a library option field. */
export type SettingKind = 'input' | 'option' | 'argument' | 'field';

export interface SettingName {
  readonly kind: SettingKind;
  /** As the user writes it: `tenant-id`, `--tenant-id`, `SCRIPT`, `tenantId`. */
  readonly name: string;
  /** An environment variable the setting falls back to when it is not given (CLI options). */
  readonly fallback?: string;
}

export const input = (name: string): SettingName => ({ kind: 'input', name });
export const option = (name: string, fallback?: string): SettingName => ({
  kind: 'option',
  name: name.startsWith('--') ? name : `--${name}`,
  ...(fallback !== undefined && { fallback }),
});
export const argument = (name: string): SettingName => ({ kind: 'argument', name });
export const field = (name: string): SettingName => ({ kind: 'field', name });

/** The setting inside a sentence: 'tenant-id', --tenant-id (or AZURE_TENANT_ID), SCRIPT, 'tenantId'. */
export function settingRef(setting: SettingName, withFallback = true): string {
  switch (setting.kind) {
    case 'input':
    case 'field':
      return `'${setting.name}'`;
    case 'argument':
      return setting.name;
    case 'option':
      return withFallback && setting.fallback !== undefined
        ? `${setting.name} (or ${setting.fallback})`
        : setting.name;
  }
}

const KIND_LABEL: Readonly<Record<SettingKind, string>> = {
  input: 'Input',
  option: 'Option',
  argument: 'Argument',
  field: 'Option',
};

/** The setting starting a sentence: "Input 'tenant-id'", "Option --tenant-id (or AZURE_TENANT_ID)". */
export function settingLabel(setting: SettingName, withFallback = true): string {
  return `${KIND_LABEL[setting.kind]} ${settingRef(setting, withFallback)}`;
}

/** Longest value echoed whole; longer ones show their start and their length. */
export const ECHO_LIMIT = 80;

/**
 * A user's value quoted for a message: control characters escaped (a newline cannot start a new log line or
 * workflow command) and long values cut, with their length.
 */
export function quoted(value: string, limit = ECHO_LIMIT): string {
  const chars = Array.from(value);
  const cut = chars.length > limit;
  const shown = escapeLegacyCommand((cut ? chars.slice(0, limit - 20) : chars).map(escapeControl).join(''));
  return cut ? `'${shown}…' (${chars.length} characters)` : `'${shown}'`;
}

/** Outside text (a server's message) fit for one log line: control characters and line separators escaped. */
export function oneLine(text: string): string {
  return escapeLegacyCommand(Array.from(text).map(escapeControl).join(''));
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** C0 and C1 controls and the Unicode line separators, which could start a new line, as escapes. */
function escapeControl(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  if (!control) return char;
  return NAMED_ESCAPES[char] ?? `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Longest list named item by item; the rest are counted. */
export const LIST_LIMIT = 5;

/** "'a', 'b' and 'c'", or the first few and "and 2 995 more". Items are quoted(). */
export function listed(items: readonly string[], limit = LIST_LIMIT): string {
  const shown = items.slice(0, limit).map((item) => quoted(item));
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1) ?? ''}`;
}
