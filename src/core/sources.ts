import {
  envVarSource,
  gitHubActionsSource,
  hasGitHubOidc,
  tokenFileSource,
  type FederatedTokenSource,
  type SourceDeps,
} from './assertion.js';
import { ExoLoginError, InputError } from './errors.js';
import { option } from './names.js';

export type SourceKind = 'auto' | 'github' | 'file' | 'env';
export const SOURCE_KINDS: readonly SourceKind[] = ['auto', 'github', 'file', 'env'];

/** Default variable for a federated token handed over in the environment (GitLab `id_tokens:` names it). */
export const DEFAULT_TOKEN_ENV = 'EXO_FEDERATED_TOKEN';

export interface SourceChoice {
  source: SourceKind;
  tokenFile: string | undefined;
  tokenEnv: string | undefined;
}

/**
 * Picks where the federated token comes from: one policy for the library (detectSource) and the CLI (--source,
 * --token-file, --token-env), so both pick the same source in the same environment. Explicit flags win; then GitHub Actions' OIDC variables, the
 * workload-identity token file, and last a token in EXO_FEDERATED_TOKEN.
 */
export function resolveSourceKind(choice: SourceChoice, env: NodeJS.ProcessEnv): Exclude<SourceKind, 'auto'> {
  if (choice.source !== 'auto') return choice.source;
  if (choice.tokenFile) return 'file';
  if (choice.tokenEnv) return 'env';
  if (hasGitHubOidc(env)) return 'github';
  if (env['AZURE_FEDERATED_TOKEN_FILE']) return 'file';
  if (env[DEFAULT_TOKEN_ENV]) return 'env';
  throw new ExoLoginError(
    `No federated token found: not in GitHub Actions with id-token: write, no --token-file or AZURE_FEDERATED_TOKEN_FILE, no --token-env or ${DEFAULT_TOKEN_ENV}. Pass one of them, or --source github|file|env.`,
    'input',
  );
}

export function createSource(
  choice: SourceChoice,
  env: NodeJS.ProcessEnv,
  deps: SourceDeps,
): FederatedTokenSource {
  const kind = resolveSourceKind(choice, env);
  switch (kind) {
    case 'github':
      return gitHubActionsSource(env, deps);
    case 'file': {
      const path = choice.tokenFile ?? env['AZURE_FEDERATED_TOKEN_FILE'];
      if (!path)
        throw new InputError(
          option('token-file'),
          'is required with --source file (or set AZURE_FEDERATED_TOKEN_FILE).',
        );
      return tokenFileSource(path, choice.tokenFile ? '--token-file' : 'AZURE_FEDERATED_TOKEN_FILE');
    }
    case 'env':
      return envVarSource(choice.tokenEnv ?? DEFAULT_TOKEN_ENV, env);
  }
}

/** For library callers: the source `exo-login` would pick from this environment (GitHub, token file, env var). */
export function detectSource(
  env: NodeJS.ProcessEnv = process.env,
  deps: SourceDeps = {},
): FederatedTokenSource {
  return createSource({ source: 'auto', tokenFile: undefined, tokenEnv: undefined }, env, deps);
}
