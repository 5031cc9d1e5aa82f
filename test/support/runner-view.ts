/**
 * Replays a step's output the way the GitHub runner processes it (actions/runner ActionCommandManager and
 * ActionCommand, read for this, not taken from src/): lines split as .NET ReadLine does ('\n', '\r', '\r\n');
 * `::name props::data` after leading whitespace, else `##[name props]data` anywhere in the line, for registered
 * names in any case; `::stop-commands::T` stops all processing until `::T::` or `##[T]`; masks apply to what is
 * printed after them. Then reads the resulting log as the log viewer draws it (`##[group]` lines open a group).
 */
import { RUNNER_COMMANDS } from '../../src/core/workflow-commands.ts';

/** The command names the runner registers: a fact of the runner, kept once in src/. */
const REGISTERED = RUNNER_COMMANDS;

/** Commands that change the step or the job rather than the log. */
const STEERING = ['set-env', 'set-output', 'save-state', 'add-path', 'add-matcher', 'remove-matcher', 'echo'];

export interface ViewCommand {
  name: string;
  properties: Record<string, string>;
  data: string;
}

export interface RunnerView {
  /** The log as stored: masked, commands replaced by what the runner writes for them. */
  log: string[];
  annotations: {
    kind: 'error' | 'warning' | 'notice';
    properties: Record<string, string>;
    message: string;
  }[];
  masks: string[];
  /** Commands that would have changed the step (environment, outputs, state, PATH, matchers, echo). */
  steering: ViewCommand[];
  /** Whether command processing is off when the output ends. */
  stoppedAtEnd: boolean;
  /** Groups as the viewer draws them, outermost first, by title. */
  groups: string[];
  /** Deepest nesting of groups the viewer saw; 1 for flat groups. */
  maxDepth: number;
  /** Groups still open at the end. */
  openAtEnd: number;
}

function unescape(text: string, pairs: [string, string][]): string {
  let out = text;
  for (const [escaped, plain] of pairs) out = out.split(escaped).join(plain);
  return out;
}
const DATA: [string, string][] = [
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%25', '%'],
];
const PROPERTY: [string, string][] = [
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%3A', ':'],
  ['%2C', ','],
  ['%25', '%'],
];
const V1: [string, string][] = [
  ['%3B', ';'],
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%5D', ']'],
  ['%25', '%'],
];

function commandOf(line: string, registered: Set<string>): ViewCommand | undefined {
  const trimmed = line.replace(/^\s+/, '');
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2);
    if (end >= 0) {
      const info = trimmed.slice(2, end);
      const [name = '', ...rest] = info.split(' ');
      if (registered.has(name.toLowerCase())) {
        const properties: Record<string, string> = {};
        for (const pair of rest.join(' ').trim().split(',').filter(Boolean)) {
          const [key, ...value] = pair.split('=');
          if (key && value.join('=') !== '') properties[key] = unescape(value.join('='), PROPERTY);
        }
        return { name: name.toLowerCase(), properties, data: unescape(trimmed.slice(end + 2), DATA) };
      }
      return undefined;
    }
  }
  const start = line.indexOf('##[');
  const close = start < 0 ? -1 : line.indexOf(']', start);
  if (close < 0) return undefined;
  const [name = '', ...rest] = line.slice(start + 3, close).split(' ');
  if (!registered.has(name.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of rest.join(' ').split(';').filter(Boolean)) {
    const [key, ...value] = pair.split('=');
    if (key && value.join('=') !== '') properties[key] = unescape(value.join('='), V1);
  }
  return { name: name.toLowerCase(), properties, data: unescape(line.slice(close + 1), V1) };
}

export function replayRunner(output: string): RunnerView {
  const registered = new Set(REGISTERED);
  const view: RunnerView = {
    log: [],
    annotations: [],
    masks: [],
    steering: [],
    stoppedAtEnd: false,
    groups: [],
    maxDepth: 0,
    openAtEnd: 0,
  };
  let stopToken: string | undefined;
  const print = (text: string): void => {
    let shown = text;
    for (const mask of view.masks) shown = shown.split(mask).join('***');
    // A line holding line breaks (a command's unescaped data) is stored as several lines.
    view.log.push(...shown.split(/\r\n|\r|\n/));
  };
  const lines = output.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    const command = commandOf(line, registered);
    if (stopToken !== undefined) {
      if (command?.name === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase());
        stopToken = undefined;
      }
      print(line);
      continue;
    }
    if (!command) {
      print(line);
      continue;
    }
    switch (command.name) {
      case 'stop-commands':
        print(line);
        stopToken = command.data;
        registered.add(command.data.toLowerCase());
        break;
      case 'add-mask':
        if (command.data.trim() !== '') view.masks.push(command.data);
        break;
      case 'group':
        print(`##[group]${command.data}`);
        break;
      case 'endgroup':
        print('##[endgroup]');
        break;
      case 'error':
      case 'warning':
      case 'notice': {
        let message = command.data;
        for (const mask of view.masks) message = message.split(mask).join('***');
        view.annotations.push({ kind: command.name, properties: command.properties, message });
        print(`##[${command.name}]${message}`);
        break;
      }
      case 'debug':
        break;
      default:
        if (STEERING.includes(command.name)) view.steering.push(command);
        print(line);
    }
  }
  view.stoppedAtEnd = stopToken !== undefined;
  let depth = 0;
  for (const line of view.log) {
    if (line.startsWith('##[group]')) {
      view.groups.push(line.slice('##[group]'.length));
      view.maxDepth = Math.max(view.maxDepth, ++depth);
    } else if (line.startsWith('##[endgroup]')) {
      depth = Math.max(0, depth - 1);
    }
  }
  view.openAtEnd = depth;
  return view;
}
