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

/**
 * Job summary rows: script, result, exit code, duration, attempts, and the session when sessions ran any; as HTML
 * (a file name may hold '<img …>').
 */
export function workerSummaryRows(rows: readonly WorkerRow[]): string[][] {
  const sessions = rows.some((r) => r.session !== undefined);
  return html([
    ['Script', 'Result', 'Exit code', 'Duration', 'Attempts', ...(sessions ? ['Session'] : [])],
    ...rows.map((r) => [
      r.name,
      r.result === 'success' ? '✅ success' : `❌ ${r.result}`,
      r.exitCode === null ? '' : String(r.exitCode),
      `${(r.durationMs / 1000).toFixed(1)} s`,
      String(r.attempts),
      ...(sessions ? [r.session === undefined ? '' : String(r.session)] : []),
    ]),
  ]);
}

export interface SessionSummary {
  session: number;
  scripts: number;
  /** Connects paid: the first, and reconnects (fresh tokens, a script that disconnected). */
  connects: number;
  connectMs: number;
}

/** Each PowerShell session of the run, from the rows: how many scripts it ran and what connecting it cost. */
export function sessionsOf(rows: readonly WorkerRow[]): SessionSummary[] {
  const byNumber = new Map<number, SessionSummary>();
  for (const row of rows) {
    if (row.session === undefined || row.session === 0) continue;
    const s = byNumber.get(row.session) ?? { session: row.session, scripts: 0, connects: 0, connectMs: 0 };
    s.scripts++;
    if ((row.connectMs ?? 0) > 0) s.connects++;
    s.connectMs += row.connectMs ?? 0;
    byNumber.set(row.session, s);
  }
  return [...byNumber.values()].sort((a, b) => a.session - b.session);
}

/**
 * Job summary rows of the sessions table (header first); empty when no script ran in a session. Numbers only, made
 * HTML all the same, as every summary table is.
 */
export function sessionSummaryRows(rows: readonly WorkerRow[]): string[][] {
  const sessions = sessionsOf(rows);
  if (sessions.length === 0) return [];
  return html([
    ['Session', 'Scripts', 'Connects', 'Connect time'],
    ...sessions.map((s) => [
      String(s.session),
      String(s.scripts),
      String(s.connects),
      `${(s.connectMs / 1000).toFixed(1)} s`,
    ]),
  ]);
}

function html(rows: string[][]): string[][] {
  return rows.map((row) => row.map(escapeHtml));
}
