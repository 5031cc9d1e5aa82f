import { InputError } from '../core/errors.js';
import { quoted, type SettingName } from '../core/names.js';
import type { Shard } from './plan.js';
import { WORKER_SETTINGS } from './defaults.js';

export { defaultText, WORKER_SETTINGS, type WorkerSettingKey } from './defaults.js';

/** Parsers for the worker settings, shared by the action's inputs and the CLI's flags. */

export function parseMaxParallel(value: string, input: SettingName): number {
  const { default: fallback, min, max } = WORKER_SETTINGS.maxParallel;
  return parseCount(value, input, fallback, min, max);
}

export function parseCount(
  value: string,
  input: SettingName,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value.trim();
  if (v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InputError(input, `must be a whole number from ${min} to ${max}; got ${quoted(v)}.`);
  }
  return Number(v);
}

/** Minutes per worker, decimals allowed (0.5 = 30 s); at most a day. */
export function parseMinutes(value: string, input: SettingName): number {
  const v = value.trim();
  const { default: fallback, max } = WORKER_SETTINGS.timeoutMinutes;
  if (v === '') return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(v) || !(n > 0) || n > max) {
    throw new InputError(
      input,
      `must be a number of minutes greater than 0 and at most ${max} (decimals allowed, e.g. 0.5); got ${quoted(v)}.`,
    );
  }
  return n;
}

/** `i/n` with 1 ≤ i ≤ n, as written with `${{ matrix.shard }}/4`. */
export function parseShard(value: string, input: SettingName): Shard | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const match = /^(\d+)\s*\/\s*(\d+)$/.exec(v);
  const index = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || index < 1 || total < 1 || index > total || total > WORKER_SETTINGS.shard.max) {
    throw new InputError(
      input,
      `must be i/n with 1 ≤ i ≤ n ≤ ${WORKER_SETTINGS.shard.max}, e.g. ${input.kind === 'input' ? "'${{ matrix.shard }}/4' giving 1/4 … 4/4" : '2/4 for the second of four shares'}; got ${quoted(v)}.`,
    );
  }
  return { index, total };
}

export function parseModuleVersion(value: string, input: SettingName): string | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  // Import-Module -RequiredVersion takes a [version]: a prerelease suffix (3.8.0-Preview1) can never load.
  if (!/^\d+(\.\d+){1,3}$/.test(v)) {
    throw new InputError(
      input,
      `must be an ExchangeOnlineManagement release version such as 3.7.2 (RequiredVersion; prerelease versions cannot be required); got ${quoted(v)}.`,
    );
  }
  return v;
}
