import { resolveSettings, type ResolvedSettings } from '../core/token.js';
import { parseBoolean, splitList } from '../core/validate.js';
import { InputError } from '../core/errors.js';
import { Input } from './names.js';

/** Every input, typed and validated; keyed by the names users write in `with:`. */
export interface ActionInputs {
  settings: ResolvedSettings;
  exportEnv: boolean;
  workers: WorkerInputs | undefined;
}

export interface WorkerInputs {
  scripts: string[];
  run: string | undefined;
  maxParallel: number;
  timeoutMinutes: number;
  failFast: boolean;
  shard: { index: number; total: number } | undefined;
  workingDirectory: string | undefined;
  moduleVersion: string | undefined;
}

export type GetInput = (name: Input) => string;

/** Pure: turns raw input strings into settings, or throws an InputError naming the input. */
export function parseInputs(get: GetInput): ActionInputs {
  const settings = resolveSettings(
    {
      tenantId: get(Input.TenantId),
      clientId: get(Input.ClientId),
      environment: get(Input.Environment),
      organization: get(Input.Organization),
      resources: get(Input.Resources),
      audience: get(Input.Audience),
      authorityHost: get(Input.AuthorityHost),
    },
    {
      tenantId: Input.TenantId,
      clientId: Input.ClientId,
      environment: Input.Environment,
      organization: Input.Organization,
      resources: Input.Resources,
      audience: Input.Audience,
      authorityHost: Input.AuthorityHost,
    },
  );
  return {
    settings,
    exportEnv: parseBoolean(get(Input.ExportEnv), Input.ExportEnv, false),
    workers: parseWorkerInputs(get),
  };
}

function parseWorkerInputs(get: GetInput): WorkerInputs | undefined {
  const scripts = get(Input.Scripts)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const run = get(Input.Run).trim() === '' ? undefined : get(Input.Run);
  const maxParallel = parseCount(get(Input.MaxParallel), Input.MaxParallel, 3, 1, 64);
  const timeoutMinutes = parseMinutes(get(Input.TimeoutMinutes), Input.TimeoutMinutes);
  const failFast = parseBoolean(get(Input.FailFast), Input.FailFast, false);
  const shard = parseShard(get(Input.Shard), Input.Shard);
  const workingDirectory = get(Input.WorkingDirectory).trim() || undefined;
  const moduleVersion = parseModuleVersion(get(Input.ModuleVersion), Input.ModuleVersion);
  if (scripts.length === 0 && run === undefined) {
    if (shard)
      throw new InputError(Input.Shard, `is set but there is nothing to shard: add '${Input.Scripts}'.`);
    return undefined;
  }
  if (shard && scripts.length === 0)
    throw new InputError(
      Input.Shard,
      `applies to '${Input.Scripts}'; an inline '${Input.Run}' script cannot be sharded.`,
    );
  return { scripts, run, maxParallel, timeoutMinutes, failFast, shard, workingDirectory, moduleVersion };
}

export function parseCount(value: string, input: string, fallback: number, min: number, max: number): number {
  const v = value.trim();
  if (v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InputError(input, `must be a whole number from ${min} to ${max}; got '${v}'.`);
  }
  return Number(v);
}

/** Minutes per worker, decimals allowed (0.5 = 30 s); at most a day. */
export function parseMinutes(value: string, input: string): number {
  const v = value.trim();
  if (v === '') return 30;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(v) || !(n > 0) || n > 1440) {
    throw new InputError(
      input,
      `must be a number of minutes greater than 0 and at most 1440 (decimals allowed, e.g. 0.5); got '${v}'.`,
    );
  }
  return n;
}

/** `i/n` with 1 ≤ i ≤ n, as written with `${{ matrix.shard }}/4`. */
export function parseShard(value: string, input: string): { index: number; total: number } | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const match = /^(\d+)\s*\/\s*(\d+)$/.exec(v);
  const index = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || index < 1 || total < 1 || index > total || total > 256) {
    throw new InputError(
      input,
      `must be i/n with 1 ≤ i ≤ n ≤ 256, e.g. '\${{ matrix.shard }}/4' giving 1/4 … 4/4; got '${v}'.`,
    );
  }
  return { index, total };
}

function parseModuleVersion(value: string, input: string): string | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  if (!/^\d+(\.\d+){1,3}(-[0-9A-Za-z.]+)?$/.test(v)) {
    throw new InputError(
      input,
      `must be an ExchangeOnlineManagement version such as 3.7.2 (RequiredVersion); got '${v}'.`,
    );
  }
  return v;
}

export { splitList };
