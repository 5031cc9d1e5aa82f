import { isAbsolute, relative } from 'node:path';
import { findErrorLocations } from './annotations.js';
import type { WorkerOutcome } from './executor.js';
import type { WorkerRow, WorkerSpec } from './types.js';

/** Pure: what the scheduler makes of a worker's outcome. */

export interface RowContext {
  name: string;
  script: string;
  durationMs: number;
  timeoutMs: number;
  /** The run's caller cancelled it (rather than fail-fast stopping the rest). */
  cancelledByCaller: boolean;
}

/** The result row of a worker that started (or was refused). */
export function rowOf(outcome: WorkerOutcome, context: RowContext): WorkerRow {
  const base = { name: context.name, script: context.script, durationMs: context.durationMs };
  if (outcome.kind === 'refused')
    return { ...base, result: 'error', exitCode: null, attempts: 0, error: outcome.error };
  const { session } = outcome;
  // A session's connect is the session's cost, not the script's: reported apart, left out of its duration.
  const started = session
    ? {
        ...base,
        durationMs: Math.max(0, context.durationMs - session.connectMs),
        attempts: 1,
        session: session.number,
        connectMs: session.connectMs,
      }
    : { ...base, attempts: 1 };
  if (outcome.startError !== undefined)
    return { ...started, result: 'error', exitCode: null, error: outcome.startError };
  if (outcome.stoppedBy === 'timeout')
    return {
      ...started,
      result: 'timeout',
      exitCode: outcome.exitCode,
      error: `exceeded ${Number((context.timeoutMs / 60_000).toPrecision(3))} minutes; stopped with its child processes`,
    };
  if (outcome.stoppedBy === 'cancel')
    return {
      ...started,
      result: 'cancelled',
      exitCode: outcome.exitCode,
      error: context.cancelledByCaller ? 'the run was cancelled' : 'stopped by fail-fast',
    };
  if (outcome.failure !== undefined)
    return { ...started, result: 'failure', exitCode: outcome.exitCode, error: outcome.failure };
  return { ...started, result: outcome.exitCode === 0 ? 'success' : 'failure', exitCode: outcome.exitCode };
}

/** `✓ checks/a.ps1: success (exit 0) in 1.2 s`. */
export function groupTitle(row: WorkerRow): string {
  const status = row.result === 'success' ? '✓' : '✗';
  const exit = row.exitCode !== null ? ` (exit ${row.exitCode})` : '';
  return `${status} ${row.name}: ${row.result}${exit} in ${(row.durationMs / 1000).toFixed(1)} s`;
}

export interface Annotation {
  message: string;
  location?: { file: string; startLine: number };
}

/**
 * The error annotations of a worker that did not succeed. Where PowerShell says an error happened decides how it
 * is annotated: a file in the repository gets a linked annotation; the generated wrapper (gone, and ours) none;
 * the inline script's temp file (gone, in no repository) and files outside the working directory (a module's
 * own) are named in the text instead. Without any location, one annotation says how the worker ended.
 */
export function annotationsOf(
  row: WorkerRow,
  spec: WorkerSpec,
  lines: readonly string[],
  dirs: { privateDir: string; cwd: string },
): Annotation[] {
  if (row.result === 'success') return [];
  const found: Annotation[] = [];
  for (const { file, line, message } of findErrorLocations(lines)) {
    if (isInside(file, dirs.privateDir)) {
      if (file === spec.script) found.push({ message: `${spec.name}, line ${line}: ${message}` });
    } else if (file === spec.script || isInside(file, dirs.cwd)) {
      found.push({ message: `${spec.name}: ${message}`, location: { file, startLine: line } });
    } else {
      found.push({ message: `${spec.name}: ${message} (at ${file}:${line})` });
    }
  }
  if (found.length === 0)
    found.push({ message: `${spec.name}: ${row.error ?? `exited with code ${row.exitCode ?? 'none'}`}` });
  return found;
}

export function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
