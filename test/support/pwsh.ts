/**
 * Real PowerShell for the tests: where it is, which version, and how suites that need it run or skip.
 *
 * `findRealPwsh()` runs in the global setup (one pwsh start per test run, not per file) and hands its answer to the
 * test processes in EXO_TEST_PWSH / EXO_TEST_PWSH_VERSION. Suites call `describePwsh`: under CI=true a missing pwsh
 * fails the run (CI installs it, so absence is a broken CI, not a reason to skip); elsewhere the suites are skipped
 * and the global setup prints one line saying how to get pwsh.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { describe, it } from 'vitest';

/** The version CI installs (../shared/docs/powershell.md); other 7.x versions are used but named in the skip line. */
export const PWSH_VERSION = '7.6.9';
export const HOW_TO_GET_PWSH = `dotnet tool install --global PowerShell --version ${PWSH_VERSION} && export PATH="$HOME/.dotnet/tools:$PATH"`;

/** test/bin holds the JavaScript imitation named `pwsh`: never mistake it for PowerShell. */
const IMITATION_DIR = resolve(import.meta.dirname, '../bin');
/** The stand-in ExchangeOnlineManagement module versions, for PSModulePath. */
export const STANDIN_MODULES = resolve(import.meta.dirname, '../pwsh/modules');

export interface RealPwsh {
  /** Absolute path of the pwsh executable. */
  path: string;
  version: string;
}

/** Looks on PATH (minus test/bin) and in ~/.dotnet/tools; asks each candidate for its version. */
export function findRealPwsh(env: NodeJS.ProcessEnv = process.env): RealPwsh | undefined {
  const dirs = (env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && resolve(dir) !== IMITATION_DIR);
  dirs.push(join(homedir(), '.dotnet', 'tools'));
  for (const dir of new Set(dirs)) {
    const path = join(dir, 'pwsh');
    if (!existsSync(path)) continue;
    try {
      const version = execFileSync(
        path,
        ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '$PSVersionTable.PSVersion.ToString()'],
        { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] },
      ).trim();
      if (/^7\.\d+/.test(version)) return { path, version };
    } catch {
      // Not a working pwsh: try the next one.
    }
  }
  return undefined;
}

/** What the global setup found (see above); undefined when pwsh is absent. */
export function realPwsh(): RealPwsh | undefined {
  const path = process.env['EXO_TEST_PWSH'];
  const version = process.env['EXO_TEST_PWSH_VERSION'];
  return path && version ? { path, version } : undefined;
}

/** Called by the global setup. */
export function publishRealPwsh(): RealPwsh | undefined {
  const found = findRealPwsh();
  if (found) {
    process.env['EXO_TEST_PWSH'] = found.path;
    process.env['EXO_TEST_PWSH_VERSION'] = found.version;
  } else {
    const what = process.env['CI'] === 'true' ? 'will FAIL (CI=true)' : 'are skipped';
    console.warn(`Real-PowerShell tests ${what}: pwsh 7 not found. Get it: ${HOW_TO_GET_PWSH}`);
  }
  return found;
}

/** PATH with real pwsh's directory first and the JavaScript imitation removed. */
export function pathWithRealPwsh(pwsh: RealPwsh, path = process.env['PATH'] ?? ''): string {
  const rest = path.split(delimiter).filter((dir) => dir !== '' && resolve(dir) !== IMITATION_DIR);
  return [dirname(pwsh.path), ...rest].join(delimiter);
}

/** `describe` for suites that need real pwsh. Without it: under CI=true one failing test says so; else skipped. */
export function describePwsh(name: string, body: (pwsh: RealPwsh) => void): void {
  const pwsh = realPwsh();
  if (pwsh) {
    describe(name, () => body(pwsh));
    return;
  }
  if (process.env['CI'] === 'true') {
    describe(name, () => {
      it('needs real PowerShell, which CI installs', () => {
        throw new Error(`pwsh 7 not found under CI=true; .ci/run installs it with: ${HOW_TO_GET_PWSH}`);
      });
    });
    return;
  }
  // The global setup printed the one line saying so and how to get pwsh.
  describe.skip(name, () => body({ path: 'pwsh', version: 'absent' }));
}

export interface StandinModuleEnv {
  /** Trusted by .NET on Linux for the emulator's HTTPS (the test CA). */
  caFile: string;
  /** Where the stand-in module appends one JSON line per connect, disconnect and cmdlet. */
  moduleLog: string;
  /** The time a connect costs (the real module generates its cmdlets then); 0 in tests. */
  connectDelayMs?: number;
  /**
   * TMPDIR for pwsh, where the module writes its generated tmpEXO_* modules: a worker killed by a timeout or a
   * cancellation cannot remove its own, so tests point this into a directory they remove.
   */
  tempDir?: string;
}

/**
 * The environment a real pwsh needs to run workers against the emulator: real pwsh first on PATH, the stand-in
 * ExchangeOnlineManagement versions on PSModulePath, the test CA trusted, the module's log and delays.
 */
export function standinModuleEnv(pwsh: RealPwsh, options: StandinModuleEnv): Record<string, string> {
  return {
    PATH: pathWithRealPwsh(pwsh),
    PSModulePath: STANDIN_MODULES,
    SSL_CERT_FILE: options.caFile,
    EXO_STANDIN_MODULE_LOG: options.moduleLog,
    EXO_STANDIN_CONNECT_DELAY_MS: String(options.connectDelayMs ?? 0),
    EXO_STANDIN_RETRY_BASE_MS: '50',
    // No telemetry ping and no update check from pwsh itself (nothing may leave the machine).
    POWERSHELL_TELEMETRY_OPTOUT: '1',
    POWERSHELL_UPDATECHECK: 'Off',
    ...(options.tempDir === undefined ? {} : { TMPDIR: options.tempDir }),
  };
}

export interface ModuleEvent {
  event: 'connect' | 'connect-ipps' | 'disconnect' | 'cmdlet';
  pid: number;
  version: string;
  time: number;
  cmdlet?: string;
  baseUri?: string;
  connectionUri?: string | null;
  organization?: string;
  environment?: string | null;
  authorizationUri?: string | null;
  audience?: string;
  showBanner?: boolean;
  connections?: number;
}
