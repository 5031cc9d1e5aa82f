import type { ExoTokens } from '../core/tokens.js';
import { escapeHtml, logText } from '../core/workflow-commands.js';
import type { WorkerRow } from '../workers/index.js';

/** Lines describing minted tokens: claims only, never token text. Claims are outside text: made inert. */
export function describeTokens(tokens: ExoTokens): string[] {
  const lines: string[] = [];
  for (const token of Object.values(tokens.tokens)) {
    lines.push(
      logText(
        `${token.kind}: audience ${token.claims.audience ?? token.resource}, tenant ${token.claims.tenantId ?? '?'}, app ${token.claims.appId ?? '?'}, roles ${token.claims.roles.join(', ') || 'none'}, expires ${token.expiresOn.toISOString()}`,
      ),
    );
  }
  return lines;
}

/** The federated token's claims as presented to Entra, for the log. */
export function describePresented(
  host: string,
  presented: { issuer?: string | undefined; subject?: string | undefined; audience?: string | undefined },
): string {
  return logText(
    `GitHub OIDC token presented to ${host}: issuer ${presented.issuer ?? '?'}, subject ${presented.subject ?? '?'}, audience ${presented.audience ?? '?'}`,
  );
}

/** Rows for the job summary's token table (header first), as HTML. */
export function tokenSummaryRows(tokens: ExoTokens): string[][] {
  return html([
    ['Resource', 'Audience', 'Roles', 'Expires (UTC)'],
    ...Object.values(tokens.tokens).map((token) => [
      token.kind,
      token.claims.audience ?? token.resource,
      token.claims.roles.join(', ') || 'none',
      token.expiresOn.toISOString(),
    ]),
  ]);
}

/** Job summary rows: script, result, exit code, duration, attempts; as HTML (a file name may hold '<img …>'). */
export function workerSummaryRows(rows: readonly WorkerRow[]): string[][] {
  return html([
    ['Script', 'Result', 'Exit code', 'Duration', 'Attempts'],
    ...rows.map((r) => [
      r.name,
      r.result === 'success' ? '✅ success' : `❌ ${r.result}`,
      r.exitCode === null ? '' : String(r.exitCode),
      `${(r.durationMs / 1000).toFixed(1)} s`,
      String(r.attempts),
    ]),
  ]);
}

function html(rows: string[][]): string[][] {
  return rows.map((row) => row.map(escapeHtml));
}
