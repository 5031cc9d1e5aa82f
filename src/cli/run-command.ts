import type { ExoLoginSession, ExoTokens } from '../core/token.js';
import { EXIT, type CliArgs } from './args.js';
import type { CliIo } from './main.js';

/** `exo-login run`: placeholder until the worker runner lands. */
export async function runScriptsCommand(
  args: CliArgs,
  _session: ExoLoginSession,
  _tokens: ExoTokens,
  io: CliIo,
): Promise<number> {
  io.stderr.write(`exo-login run: not available yet (${args.scripts.length} scripts)\n`);
  return Promise.resolve(EXIT.failure);
}
