/**
 * Outside text (worker output, file names, token claims, server answers) meets the GitHub runner here, and only
 * here. The runner reads a step's stdout and stderr line by line (.NET ReadLine: '\n', '\r' and '\r\n' all end a
 * line) and treats a line as a workflow command when, after leading whitespace, it starts `::name …::` (v2), or
 * when it holds `##[name …]` anywhere (v1), for a registered command name in any case (actions/runner
 * ActionCommandManager and ActionCommand). `::stop-commands::T` turns that off until a line `::T::` (or `##[T]`).
 * The log viewer also draws lines that start with `##[group]`, `##[endgroup]`, `##[error]` … itself.
 */

/** Commands the runner knows (a name it does not know is plain text). */
export const RUNNER_COMMANDS: readonly string[] = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'warning',
  'error',
  'notice',
  'group',
  'endgroup',
  'echo',
];

/** The commands a worker may issue; the rest would steer the step (environment, outputs, echo, the log's groups). */
export const WORKER_COMMANDS: readonly string[] = ['add-mask', 'error', 'warning', 'notice', 'debug'];

export interface ParsedCommand {
  /** Lower case. */
  name: string;
  properties: Record<string, string>;
  data: string;
}

/**
 * What the runner would take `line` (one line, no line break) for, by its rules: v2 first, then v1; undefined
 * when it is plain text. `names`: the registered command names (lower case).
 */
export function parseCommand(
  line: string,
  names: readonly string[] = RUNNER_COMMANDS,
): ParsedCommand | undefined {
  return parseV2(line, names) ?? parseV1(line, names);
}

function parseV2(line: string, names: readonly string[]): ParsedCommand | undefined {
  const text = line.trimStart();
  if (!text.startsWith('::')) return undefined;
  const end = text.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(' ');
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase();
  if (!names.includes(name)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info
      .slice(space + 1)
      .trim()
      .split(',')) {
      const at = pair.indexOf('=');
      if (at > 0 && at < pair.length - 1)
        properties[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1));
    }
  }
  return { name, properties, data: unescapeData(text.slice(end + 2)) };
}

function parseV1(line: string, names: readonly string[]): ParsedCommand | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const close = line.indexOf(']', start);
  if (close < 0) return undefined;
  const info = line.slice(start + 3, close);
  const space = info.indexOf(' ');
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase();
  if (!names.includes(name)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info.slice(space + 1).split(';')) {
      const at = pair.indexOf('=');
      if (at > 0 && at < pair.length - 1) properties[pair.slice(0, at)] = unescapeV1(pair.slice(at + 1));
    }
  }
  return { name, properties, data: unescapeV1(line.slice(close + 1)) };
}

const unescapeData = (s: string): string =>
  s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string): string => unescapeData(s.replace(/%3A/g, ':').replace(/%2C/g, ','));
const unescapeV1 = (s: string): string =>
  s
    .replace(/%3B/g, ';')
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%5D/g, ']')
    .replace(/%25/g, '%');

/** As @actions/core escapes a command's message. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** As @actions/core escapes a command's property value. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::name key=value,…::message`, escaped as @actions/core does. */
export function formatCommand(
  name: string,
  properties: Readonly<Record<string, string | number | undefined>>,
  message: string,
): string {
  const props = Object.entries(properties)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(',');
  return `::${name}${props === '' ? '' : ` ${props}`}::${escapeData(message)}`;
}

/** A zero-width space: invisible, and neither .NET nor JavaScript trims it. */
const ZWSP = '\u200b';

/**
 * Outside text made into one inert log line: line breaks and other control characters shown as `\n`, `\r`,
 * `\u001b`…; every `##[` broken with a zero-width space; a leading `::` likewise. What it prints looks the same,
 * but the runner can neither read a command in it nor start a new line with it.
 */
export function logText(text: string): string {
  const shown = text.replace(CONTROL, (c) => CONTROL_NAMES[c] ?? unicodeEscape(c));
  const inert = shown.replace(LEGACY_COMMAND, `##${ZWSP}[`);
  return /^\s*::/.test(inert) ? `${ZWSP}${inert}` : inert;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;
const CONTROL_NAMES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\t' };
const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * One line of a worker's output as it is printed between `::stop-commands::` and its resume token, where the
 * runner runs no command: what is left to guard is the log viewer, which draws a line starting with `##[` (a
 * group, an error) itself, and a '\r', which the runner takes for a line break. So: split at '\r', and put a
 * zero-width space before a piece that starts with `##[`.
 */
export function shownLines(line: string): string[] {
  return line.split('\r').map((piece) => (/^\s*##\[/.test(piece) ? `${ZWSP}${piece}` : piece));
}

const HTML: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * Text for the job summary, which GitHub renders as HTML and Markdown. Line breaks too: a blank line would end the
 * summary's one-line `<table>` block, and the text after it would render as Markdown.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\r\n]/g, (c) => HTML[c] ?? c);
}

/** The runner's legacy command form, which it finds anywhere in a line. */
const LEGACY_COMMAND = /##\[/g;

/**
 * Every `##[` written `##\u005b`: for text that already shows escapes (an echoed value, a server's message) and
 * for JSON, where it parses back to the same `[`. `logText` breaks it invisibly instead.
 */
export function escapeLegacyCommand(text: string): string {
  return text.replace(LEGACY_COMMAND, '##\\u005b');
}

/**
 * A leading `::` written `: :`, for trimmed text measured by its length (a table cell), where logText's invisible
 * character would shift the columns.
 */
export function breakLeadingCommand(text: string): string {
  return text.replace(/^::/, ': :');
}

/** JSON for a stream the runner reads: `##[` inside strings written `##\u005b`, which parses to the same value. */
export function inertJson(value: unknown): string {
  return escapeLegacyCommand(JSON.stringify(value));
}
