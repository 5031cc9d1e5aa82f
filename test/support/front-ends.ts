/** Running the front ends against the emulator: the CLI as a real process, the action's inputs. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../emulator/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The action's inputs that point it at the emulator's tenant, app and Entra. */
export function emulatorInputs(emulator: Emulator): Record<string, string> {
  return {
    'tenant-id': emulator.domain,
    'client-id': emulator.clientId,
    'authority-host': emulator.authorityHost,
  };
}

/** A clean environment for the CLI: PATH, the emulator's CA and the AZURE_* settings, plus `env`. */
export function cliEnvironment(emulator: Emulator, env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    NODE_EXTRA_CA_CERTS: emulator.caFile,
    AZURE_TENANT_ID: emulator.domain,
    AZURE_CLIENT_ID: emulator.clientId,
    AZURE_AUTHORITY_HOST: `https://${emulator.authorityHost}/`,
    ...env,
  };
}

export type CliProcess = ChildProcessByStdio<null, Readable, Readable>;

export interface CliEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Longer than any test's timeout: a hung CLI is reported by vitest first. */
export const NO_CLI_TIMEOUT = 10 * 60_000;

/** bin/exo-login.js as a real process; `ended` resolves when it closed (SIGKILLed after `timeoutMs`). */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
  cwd?: string,
): { child: CliProcess; ended: Promise<CliEnd> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/exo-login.js'), ...args], {
    ...(cwd !== undefined && { cwd }),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const ended = new Promise<CliEnd>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, ended };
}
