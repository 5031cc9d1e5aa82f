import type { ExoTokens } from '../core/token.js';
import type { WorkerRow } from '../workers/index.js';

/** Lines describing minted tokens: claims only, never token text. */
export function describeTokens(tokens: ExoTokens): string[] {
  const lines: string[] = [];
  for (const token of Object.values(tokens.tokens)) {
    lines.push(
      `${token.kind}: audience ${token.claims.audience ?? token.resource}, tenant ${token.claims.tenantId ?? '?'}, app ${token.claims.appId ?? '?'}, roles ${token.claims.roles.join(', ') || 'none'}, expires ${token.expiresOn.toISOString()}`,
    );
  }
  return lines;
}

/** Rows for the job summary's token table (header first). */
export function tokenSummaryRows(tokens: ExoTokens): string[][] {
  return [
    ['Resource', 'Audience', 'Roles', 'Expires (UTC)'],
    ...Object.values(tokens.tokens).map((token) => [
      token.kind,
      token.claims.audience ?? token.resource,
      token.claims.roles.join(', ') || 'none',
      token.expiresOn.toISOString(),
    ]),
  ];
}

/** Job summary rows: script, result, exit code, duration, attempts. */
export function workerSummaryRows(rows: readonly WorkerRow[]): string[][] {
  return [
    ['Script', 'Result', 'Exit code', 'Duration', 'Attempts'],
    ...rows.map((r) => [
      r.name,
      r.result === 'success' ? '✅ success' : `❌ ${r.result}`,
      r.exitCode === null ? '' : String(r.exitCode),
      `${(r.durationMs / 1000).toFixed(1)} s`,
      String(r.attempts),
    ]),
  ];
}
