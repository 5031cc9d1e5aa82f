import { randomUUID } from 'node:crypto';
import {
  formatCommand,
  logText,
  parseCommand,
  RUNNER_COMMANDS,
  shownLines,
  WORKER_COMMANDS,
} from '../core/workflow-commands.js';

/** The annotation properties a worker's `::error …::` may carry on. */
const ISSUE_PROPERTIES = ['file', 'line', 'endLine', 'col', 'endColumn', 'title'] as const;

/**
 * A worker's buffered output as the lines the action (or `exo-login run` inside Actions) writes for the runner,
 * so that whatever the worker printed, the runner is in the same state after the group as before it:
 * - the worker's `::add-mask::` values are masked first, so its whole group is masked;
 * - its lines go between `::stop-commands::T` and `::T::`, T random per group and never shown to a worker, so
 *   no line of it is a command: not `::stop-commands::` (which, never resumed, would leave every later command of
 *   the step unread, masks included), `::echo::`, `::set-env::`, `::add-path::`, `::group::`, nor anything else;
 * - its `::error::`, `::warning::`, `::notice::` and `::debug::` (read by the runner's rules) are issued after
 *   the group, on its behalf and named after it.
 */
export function runnerGroup(
  title: string,
  lines: readonly string[],
  worker: string,
  token?: string,
): string[] {
  const { masks, body, issues } = isolatedOutput(lines, worker, token);
  return [...masks, formatCommand('group', {}, logText(title)), ...body, '::endgroup::', ...issues];
}

/** The parts of runnerGroup: masks to write first, the inert body, and the worker's annotations to write after. */
export function isolatedOutput(
  lines: readonly string[],
  worker: string,
  token: string = randomUUID(),
): { masks: string[]; body: string[]; issues: string[] } {
  const masks: string[] = [];
  const issues: string[] = [];
  const shown: string[] = [];
  const name = logText(worker);
  for (const line of lines) {
    for (const piece of line.split('\r')) {
      const command = parseCommand(piece, RUNNER_COMMANDS);
      if (!command || !WORKER_COMMANDS.includes(command.name)) continue;
      if (command.name === 'add-mask') {
        if (command.data.trim() !== '') masks.push(formatCommand('add-mask', {}, command.data));
        continue;
      }
      issues.push(
        formatCommand(command.name, issueProperties(command.properties), `${name}: ${command.data}`),
      );
    }
    shown.push(...shownLines(line));
  }
  return { masks, body: [`::stop-commands::${token}`, ...shown, `::${token}::`], issues };
}

function issueProperties(properties: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of ISSUE_PROPERTIES) {
    const value = properties[key];
    if (value !== undefined) kept[key] = value;
  }
  return kept;
}
