import { ACTIONS_ID_TOKEN_REQUEST_TOKEN, ACTIONS_ID_TOKEN_REQUEST_URL } from '../core/assertion.js';
import type { ExoTokens } from '../core/tokens.js';
import { EnvVar, tokenVariables } from '../core/variables.js';

/** Variables a worker must not inherit: they would let a script mint GitHub tokens or call the runner's APIs. */
export const WITHHELD_VARIABLES = [
  ACTIONS_ID_TOKEN_REQUEST_TOKEN,
  ACTIONS_ID_TOKEN_REQUEST_URL,
  'ACTIONS_RUNTIME_TOKEN',
];

/** Carries `<run id>/<worker number>` into each worker's environment, and so into every process it starts. */
export const WORKER_ID = 'EXO_WORKER_ID';

const NOT_INHERITED: ReadonlySet<string> = new Set([...Object.values(EnvVar), WORKER_ID]);

export function workerEnvironment(
  parent: NodeJS.ProcessEnv,
  tokens: ExoTokens,
  worker: string,
): NodeJS.ProcessEnv {
  return withTokens(inheritedEnvironment(parent), tokens, worker);
}

/**
 * The parent's variables a worker may see, as a plain object. Token variables are left out too: an earlier step's
 * `export-env` may have left stale ones, and a worker must see only the tokens minted for it; so is a worker id
 * (exo-login run inside a worker gets its own). `withheld`: further names the caller keeps from workers.
 */
export function inheritedEnvironment(
  parent: NodeJS.ProcessEnv,
  withheld: readonly string[] = [],
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(parent))
    if (!WITHHELD_VARIABLES.includes(key) && !NOT_INHERITED.has(key) && !withheld.includes(key))
      env[key] = value;
  return env;
}

export function withTokens(
  inherited: NodeJS.ProcessEnv,
  tokens: ExoTokens,
  worker: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...inherited };
  for (const [key, value] of tokenVariables(tokens)) env[key] = value;
  env['EXO_WORKER'] = worker;
  return env;
}
