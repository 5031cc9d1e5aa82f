/**
 * Pulumi program: an Exchange Online token from a federated token, with no stored secret. Works wherever the
 * CI system presents one: GitHub Actions (id-token: write), Kubernetes workload identity or another CI's
 * token file (AZURE_FEDERATED_TOKEN_FILE), or EXO_FEDERATED_TOKEN (GitLab `id_tokens`).
 *
 *   pulumi config set exo:tenantId contoso.onmicrosoft.com
 *   pulumi config set exo:clientId 5f0d7c9a-…
 *   pulumi up
 */
import * as pulumi from '@pulumi/pulumi';
import { detectSource, getExchangeOnlineTokens, runWorkers, type ExoTokens } from 'exo-login';

const config = new pulumi.Config('exo');

const tokens: Promise<ExoTokens> = getExchangeOnlineTokens({
  tenantId: config.require('tenantId'),
  clientId: config.require('clientId'),
  resources: ['exchange'],
  assertion: detectSource(),
});

/**
 * A dynamic resource that runs a PowerShell drift check against Exchange Online on every update. The token
 * reaches pwsh through the environment (exo-login's wrapper), never through Pulumi state: only the result is kept.
 */
const driftCheckProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { script: string }) {
    const minted = await tokens;
    const run = await runWorkers({
      workers: [{ name: 'drift-check', script: inputs.script }],
      maxParallel: 1,
      timeoutMs: 10 * 60_000,
      failFast: true,
      cwd: process.cwd(),
      env: process.env,
      tempDir: process.env['TMPDIR'] ?? '/tmp',
      getTokens: () => Promise.resolve(minted),
      logger: {
        info: (m) => pulumi.log.info(m),
        warning: (m) => pulumi.log.warn(m),
        error: (m) => pulumi.log.error(m),
        group: (title, lines) => pulumi.log.info(`${title}\n${lines.join('\n')}`),
      },
    });
    if (!run.ok) throw new Error(`drift check failed: ${JSON.stringify(run.rows)}`);
    return {
      id: `drift-${Date.now()}`,
      outs: { result: run.rows[0]?.result ?? 'unknown', checkedAt: new Date().toISOString() },
    };
  },
};

class ExchangeDriftCheck extends pulumi.dynamic.Resource {
  declare readonly result: pulumi.Output<string>;
  declare readonly checkedAt: pulumi.Output<string>;
  constructor(name: string, args: { script: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(driftCheckProvider, name, { ...args, result: undefined, checkedAt: undefined }, opts);
  }
}

const check = new ExchangeDriftCheck('organization-config', { script: 'checks/organization-config.ps1' });

export const tenantId = pulumi.output(tokens.then((t) => t.tenantId));
export const tokenExpiresOn = pulumi.output(tokens.then((t) => t.expiresOn.toISOString()));
export const roles = pulumi.output(tokens.then((t) => t.tokens.exchange?.claims.roles ?? []));
export const driftCheck = check.result;
