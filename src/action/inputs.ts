import { resolveSettings, type ResolvedSettings } from '../core/settings.js';
import { parseBoolean } from '../core/validate.js';
import { InputError } from '../core/errors.js';
import { ACTION_SETTING_NAMES, Input, named } from './names.js';
import {
  defaultText,
  WORKER_SETTINGS,
  parseMaxParallel,
  parseMinutes,
  parseModuleVersion,
  parseShard,
} from '../workers/settings.js';

/** Every input, typed and validated; keyed by the names users write in `with:`. */
export interface ActionInputs {
  settings: ResolvedSettings;
  exportEnv: boolean;
  workers: WorkerInputs | undefined;
  /** Worker-only inputs the user set although there are no workers (neither scripts nor run), in action.yml order. */
  ignoredInputs: Input[];
}

export interface WorkerInputs {
  scripts: string[];
  run: string | undefined;
  maxParallel: number;
  timeoutMinutes: number;
  failFast: boolean;
  reuseSessions: boolean;
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
    ACTION_SETTING_NAMES,
  );
  const workers = parseWorkerInputs(get);
  return {
    settings,
    exportEnv: parseBoolean(get(Input.ExportEnv), named(Input.ExportEnv), false),
    workers,
    ignoredInputs: workers ? [] : setWorkerOnlyInputs(get),
  };
}

/**
 * action.yml's defaults of the inputs that only workers use (shard is left out: set alone, it is an error). The
 * runner passes a default when the user sets nothing, so "set" means a value other than this (a test compares).
 */
export const WORKER_ONLY_INPUT_DEFAULTS: readonly (readonly [Input, string])[] = [
  [Input.MaxParallel, defaultText('maxParallel')],
  [Input.TimeoutMinutes, defaultText('timeoutMinutes')],
  [Input.FailFast, defaultText('failFast')],
  [Input.ReuseSessions, defaultText('reuseSessions')],
  [Input.WorkingDirectory, defaultText('workingDirectory')],
  [Input.ModuleVersion, defaultText('moduleVersion')],
];

function setWorkerOnlyInputs(get: GetInput): Input[] {
  return WORKER_ONLY_INPUT_DEFAULTS.filter(([name, fallback]) => {
    // Empty is unset too: run without the runner's defaults (a local harness), an unset input reads ''.
    const value = get(name).trim();
    return value !== '' && value !== fallback;
  }).map(([name]) => name);
}

/** One line naming inputs that have no workers to apply to; undefined when there are none. */
export function ignoredInputsWarning(ignored: readonly Input[]): string | undefined {
  if (ignored.length === 0) return undefined;
  const one = ignored.length === 1;
  return `${one ? 'Input' : 'Inputs'} ${ignored.join(', ')} ${one ? 'applies' : 'apply'} to workers, and neither '${Input.Scripts}' nor '${Input.Run}' is set: ${one ? 'it is' : 'they are'} ignored.`;
}

function parseWorkerInputs(get: GetInput): WorkerInputs | undefined {
  const scripts = get(Input.Scripts)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const run = get(Input.Run).trim() === '' ? undefined : get(Input.Run);
  const maxParallel = parseMaxParallel(get(Input.MaxParallel), named(Input.MaxParallel));
  const timeoutMinutes = parseMinutes(get(Input.TimeoutMinutes), named(Input.TimeoutMinutes));
  const failFast = parseBoolean(get(Input.FailFast), named(Input.FailFast), WORKER_SETTINGS.failFast.default);
  const reuseSessions = parseBoolean(
    get(Input.ReuseSessions),
    named(Input.ReuseSessions),
    WORKER_SETTINGS.reuseSessions.default,
  );
  const shard = parseShard(get(Input.Shard), named(Input.Shard));
  const workingDirectory = get(Input.WorkingDirectory).trim() || undefined;
  const moduleVersion = parseModuleVersion(get(Input.ModuleVersion), named(Input.ModuleVersion));
  if (scripts.length === 0 && run === undefined) {
    if (shard)
      throw new InputError(
        named(Input.Shard),
        `is set but there is nothing to shard: add '${Input.Scripts}'.`,
      );
    return undefined;
  }
  if (shard && scripts.length === 0)
    throw new InputError(
      named(Input.Shard),
      `applies to '${Input.Scripts}'; an inline '${Input.Run}' script cannot be sharded.`,
    );
  return {
    scripts,
    run,
    maxParallel,
    timeoutMinutes,
    failFast,
    reuseSessions,
    shard,
    workingDirectory,
    moduleVersion,
  };
}
