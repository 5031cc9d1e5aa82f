/**
 * Pulumi program: a PowerShell drift check against Exchange Online on every `pulumi up`, with an Exchange Online
 * token from a federated token and no stored secret. Works wherever the CI system presents one: GitHub Actions
 * (id-token: write), Kubernetes workload identity or another CI's token file (AZURE_FEDERATED_TOKEN_FILE), or
 * EXO_FEDERATED_TOKEN (GitLab `id_tokens`).
 *
 *   pulumi config set exo:tenantId contoso.onmicrosoft.com
 *   pulumi config set exo:clientId 5f0d7c9a-…
 *   pulumi up
 */
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config('exo');

interface DriftCheckInputs {
  tenantId: string;
  clientId: string;
  script: string;
}

interface DriftCheckOutputs extends DriftCheckInputs {
  result: string;
  checkedAt: string;
  /** Non-secret claims of the token the check ran with. */
  roles: string[];
  appId: string;
}

/**
 * Mints the token at deployment time, inside the provider, and hands it to pwsh through the environment
 * (exo-login's wrapper). Pulumi serializes the provider's code into the state and awaits any promise it
 * captures, so the token must not be minted at module level: the provider captures nothing but code, and
 * only the result and non-secret claims are kept. Nothing is minted during `pulumi preview`.
 */
async function runDriftCheck(inputs: DriftCheckInputs): Promise<DriftCheckOutputs> {
  const { detectSource, getExchangeOnlineTokens, runWorkers } = await import('exo-login');
  const minted = await getExchangeOnlineTokens({
    tenantId: inputs.tenantId,
    clientId: inputs.clientId,
    resources: ['exchange'],
    assertion: detectSource(),
  });
  const run = await runWorkers({
    workers: [{ name: 'drift-check', script: inputs.script }],
    maxParallel: 1,
    timeoutMs: 10 * 60_000,
    failFast: true,
    cwd: process.cwd(),
    env: process.env,
    tempDir: process.env['RUNNER_TEMP'] ?? process.env['TMPDIR'] ?? '/tmp',
    getTokens: () => Promise.resolve(minted),
    logger: {
      info: (m) => pulumi.log.info(m),
      warning: (m) => pulumi.log.warn(m),
      error: (m) => pulumi.log.error(m),
      group: (title, lines) => pulumi.log.info(`${title}\n${lines.join('\n')}`),
    },
  });
  const row = run.rows[0];
  if (!run.ok)
    throw new Error(`drift check ${row?.result ?? 'failed'}: ${row?.error ?? `exit ${row?.exitCode}`}`);
  const claims = minted.tokens.exchange?.claims;
  return {
    ...inputs,
    result: row?.result ?? 'unknown',
    checkedAt: new Date().toISOString(),
    roles: claims?.roles ?? [],
    appId: claims?.appId ?? '',
  };
}

const driftCheckProvider: pulumi.dynamic.ResourceProvider<DriftCheckInputs, DriftCheckOutputs> = {
  async create(inputs) {
    return { id: `drift-${inputs.tenantId}`, outs: await runDriftCheck(inputs) };
  },
  // A check, not a thing that exists: run it again on every update.
  async diff() {
    return { changes: true };
  },
  async update(_id, _olds, news) {
    return { outs: await runDriftCheck(news) };
  },
};

class ExchangeDriftCheck extends pulumi.dynamic.Resource {
  declare readonly result: pulumi.Output<string>;
  declare readonly checkedAt: pulumi.Output<string>;
  declare readonly roles: pulumi.Output<string[]>;
  declare readonly appId: pulumi.Output<string>;
  constructor(
    name: string,
    args: { [K in keyof DriftCheckInputs]: pulumi.Input<string> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      driftCheckProvider,
      name,
      { ...args, result: undefined, checkedAt: undefined, roles: undefined, appId: undefined },
      opts,
    );
  }
}

const check = new ExchangeDriftCheck('organization-config', {
  tenantId: config.require('tenantId'),
  clientId: config.require('clientId'),
  script: 'checks/organization-config.ps1',
});

export const driftCheck = check.result;
export const checkedAt = check.checkedAt;
export const roles = check.roles;
export const appId = check.appId;
