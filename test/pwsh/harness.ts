/** What the real-pwsh suites share: the emulator's admin API URLs, /proc inspection, the CLI as a process. */
import { readdirSync, readFileSync } from 'node:fs';
import type { Emulator } from '../emulator/index.ts';
import { NO_CLI_TIMEOUT, spawnCli as startCli } from '../support/front-ends.ts';

/** The emulator's Exchange and Security & Compliance admin API hosts (also their resource URLs). */
export function adminApi(emulator: Emulator): { exchange: string; compliance: string } {
  return { exchange: emulator.exchange.url, compliance: emulator.exchange.complianceUrl };
}

/** Running, not merely a zombie waiting for a parent that does not reap (PID 1 in some sandboxes). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Every live process whose environment holds `marker` (e.g. `EXO_STANDIN_MODULE_LOG=<this test's log>`, which
 * workers and all they start inherit): pids, the argv of those that are pwsh (the dotnet-tool shim and the dotnet
 * process it starts), and the text of the wrapper files their -File names.
 */
export function markedProcesses(marker: string): { pids: number[]; argv: string[]; wrappers: string[] } {
  const found = { pids: [] as number[], argv: [] as string[], wrappers: [] as string[] };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = read(`/proc/${entry}/environ`);
    if (!environ?.split('\0').includes(marker)) continue;
    found.pids.push(Number(entry));
    const argv = (read(`/proc/${entry}/cmdline`) ?? '').split('\0').filter(Boolean);
    if (!argv.some((a) => /(^|\/)pwsh(\.dll)?$/.test(a))) continue;
    found.argv.push(argv.join(' '));
    const file = argv[argv.indexOf('-File') + 1];
    const text = argv.includes('-File') && file ? read(file) : undefined;
    if (text !== undefined) found.wrappers.push(text);
  }
  return found;
}

export async function spawnCli(
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A clean environment, as cli.test.ts uses, plus HOME (pwsh keeps its caches there).
  const env = { HOME: process.env['HOME'] ?? '/tmp', ...options.env };
  const { code, stdout, stderr } = await startCli(args, env, NO_CLI_TIMEOUT, options.cwd).ended;
  return { code, stdout, stderr };
}
