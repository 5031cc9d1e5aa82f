import { ExoLoginError } from './errors.js';
import { oneLine, settingRef, type SettingName } from './names.js';
import type { SettingSource } from './settings.js';
import { audienceClaim, decodeJwtClaims, stringClaim } from './jwt.js';
import { fixFor, TROUBLES, type TroubleKey } from './troubleshooting.js';

/** Entra's OAuth error body (v2.0 endpoint). */
export interface EntraErrorBody {
  error: string;
  error_description?: string;
  error_codes?: number[];
  timestamp?: string;
  trace_id?: string;
  correlation_id?: string;
  error_uri?: string;
}

export function parseEntraError(body: string): EntraErrorBody | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<EntraErrorBody> | null;
    if (parsed && typeof parsed.error === 'string') return parsed as EntraErrorBody;
  } catch {
    // Gateways answer HTML; the caller reports the status instead.
  }
  return undefined;
}

/** First AADSTS code, from error_codes or the description. */
export function entraCode(body: EntraErrorBody): number | undefined {
  const first = body.error_codes?.[0];
  if (typeof first === 'number') return first;
  const match = /AADSTS(\d+)/.exec(body.error_description ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

const CODE_TO_TROUBLE: Readonly<Record<number, TroubleKey>> = {
  70021: 'federatedCredential',
  700211: 'federatedCredential',
  700212: 'federatedCredential',
  700213: 'federatedCredential',
  7002138: 'federatedCredential',
  700016: 'applicationNotFound',
  90002: 'tenantNotFound',
  500011: 'resourceNotFound',
  700024: 'assertionLifetime',
  50196: 'throttled',
};

/** AADSTS codes that mean "try again later" even though the status may be 400. */
export const TRANSIENT_ENTRA_CODES: ReadonlySet<number> = new Set([50196]);

export function troubleForEntraError(body: EntraErrorBody, status?: number): TroubleKey {
  const code = entraCode(body);
  const known = code === undefined ? undefined : CODE_TO_TROUBLE[code];
  if (known) return known;
  // A 5xx or 429 with an OAuth body (AADSTS90033 temporarily_unavailable) is Entra's side, not the client's.
  if (status !== undefined && (status >= 500 || status === 429)) return 'throttled';
  return 'invalidClient';
}

export interface EntraErrorContext {
  clientId: string;
  tenant: string;
  environment: string;
  authorityHost: string;
  resource: string;
  /** The federated token we presented; only its (non-secret) claims are read. */
  assertion: string | undefined;
  assertionSource: string;
  /** Where the audience came from: advice differs when the user chose one other than the recommended value. */
  audience?: { source: SettingSource; name: SettingName; recommended: string };
}

/** The description without Entra's trailing Trace/Correlation/Timestamp lines, which are printed apart. */
function headline(body: EntraErrorBody): string {
  const text = (body.error_description ?? body.error).split(/\r?\n| Trace ID:/)[0] ?? body.error;
  return oneLine(text.trim());
}

/** One paragraph naming what went wrong, what GitHub presented, and the fix, with Entra's correlation id. */
export function explainEntraError(
  body: EntraErrorBody,
  status: number,
  ctx: EntraErrorContext,
): ExoLoginError {
  const key = troubleForEntraError(body, status);
  const parts = [
    `Entra ID refused the token request for ${ctx.resource} (HTTP ${status}, ${body.error}): ${headline(body)}`,
  ];
  let command: string | undefined;
  let fix = fixFor(key);
  if (key === 'federatedCredential') {
    const claims = ctx.assertion === undefined ? undefined : decodeJwtClaims(ctx.assertion);
    const issuer = stringClaim(claims, 'iss');
    const subject = stringClaim(claims, 'sub');
    const audience = audienceClaim(claims);
    parts.push(
      `${ctx.assertionSource} presented issuer '${issuer ?? '?'}', subject '${subject ?? '?'}', audience '${audience ?? '?'}'.`,
    );
    const chosen = ctx.audience;
    if (chosen && chosen.source !== 'default' && audience !== undefined && audience !== chosen.recommended) {
      // The user's own audience is the likelier mistake: never advise a credential built on it.
      parts.push(
        `That audience was set with ${settingRef(chosen.name)}; federated credentials normally use ${chosen.recommended}. Leave ${settingRef(chosen.name, false)} unset, unless the app's credential was made for '${audience}'.`,
      );
      fix = `(See TROUBLESHOOTING.md#${TROUBLES.federatedCredential.id}.)`;
    } else {
      parts.push(
        `The app ${ctx.clientId} in tenant ${ctx.tenant} needs a federated credential with exactly these three values.`,
      );
      // Say which shell: PowerShell reads '\'' differently and can hand az the JSON without its double quotes.
      if (issuer && subject && audience)
        command = `To add it (bash): ${federatedCredentialCommand(ctx.clientId, issuer, subject, audience)}`;
    }
  } else if (key === 'applicationNotFound' || key === 'tenantNotFound' || key === 'resourceNotFound') {
    parts.push(
      `Asked ${ctx.authorityHost} (environment ${ctx.environment}) about tenant ${ctx.tenant}, client ${ctx.clientId}.`,
    );
  } else if (key === 'invalidClient') {
    parts.push(TROUBLES.invalidClient.cause);
  }
  parts.push(fix);
  const ids = [
    body.correlation_id && `Correlation ID: ${body.correlation_id}`,
    body.trace_id && `Trace ID: ${body.trace_id}`,
    body.timestamp && `Timestamp: ${body.timestamp}`,
  ].filter(Boolean);
  if (ids.length > 0) parts.push(`${ids.join(', ')}.`);
  // Last, so that no sentence runs on from the end of the command.
  if (command !== undefined) parts.push(command);
  const code = entraCode(body);
  return new ExoLoginError(parts.join(' '), code === undefined ? 'entra' : `AADSTS${code}`);
}

/**
 * The Azure CLI command that adds the credential Entra looked for, ready to paste (run by someone who may edit the
 * app). The name is derived from the subject: 3–120 letters, digits, '-' or '_'.
 */
export function federatedCredentialCommand(
  clientId: string,
  issuer: string,
  subject: string,
  audience: string,
): string {
  const name = `exo-login-${subject.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '')}`.slice(0, 120);
  const parameters = JSON.stringify({ name, issuer, subject, audiences: [audience] });
  // Single-quoted for POSIX shells; a quote inside becomes '\''.
  return `az ad app federated-credential create --id ${clientId} --parameters '${parameters.replace(/'/g, "'\\''")}'`;
}
