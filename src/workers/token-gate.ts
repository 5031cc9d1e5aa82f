import { errorMessage, ExoLoginError } from '../core/errors.js';
import type { ExoTokens } from '../core/tokens.js';

/** A worker starts only with tokens that outlive its timeout by this much. */
export const TOKEN_MARGIN_MS = 2 * 60_000;

export type GateAnswer = { tokens: ExoTokens } | { refused: string };

/**
 * Hands each worker tokens that outlive its timeout plus the margin: Exchange Online cannot refresh them, so a
 * session would die mid-run. Once a fresh mint fell short, every later worker is refused at once: every worker
 * has the same timeout, and more mints would only invite throttling.
 */
export class TokenGate {
  private tooShort: string | undefined;

  constructor(
    private readonly getTokens: (minValidUntil: Date) => Promise<ExoTokens>,
    private readonly now: () => number = Date.now,
  ) {}

  async tokensFor(timeoutMs: number): Promise<GateAnswer> {
    if (this.tooShort !== undefined) return { refused: this.tooShort };
    const minValidUntil = new Date(this.now() + timeoutMs + TOKEN_MARGIN_MS);
    let tokens: ExoTokens;
    try {
      tokens = await this.getTokens(minValidUntil);
    } catch (error) {
      // The session's own verdict that fresh tokens fall short: as below, later workers need not ask again.
      if (error instanceof ExoLoginError && error.code === 'token-lifetime') this.tooShort = error.message;
      return { refused: errorMessage(error) };
    }
    if (tokens.expiresOn.getTime() < minValidUntil.getTime()) {
      this.tooShort = tooShortMessage(tokens.expiresOn, minValidUntil);
      return { refused: this.tooShort };
    }
    return { tokens };
  }
}

export function tooShortMessage(expiresOn: Date, minValidUntil: Date): string {
  return `the tokens Entra issues last until ${expiresOn.toISOString()}, less than this worker's timeout plus a ${TOKEN_MARGIN_MS / 60_000}-minute margin (until ${minValidUntil.toISOString()}): lower timeout-minutes.`;
}
