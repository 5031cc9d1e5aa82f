import { extname } from 'node:path';

export interface Interpreter {
  command: string;
  args: string[];
  powershell: boolean;
}

/** How each kind of script runs. PowerShell goes through the generated wrapper (appended to its args). */
const INTERPRETERS: Readonly<Record<string, (script: string) => Interpreter>> = {
  '.ps1': () => ({
    command: 'pwsh',
    args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'],
    powershell: true,
  }),
  '.sh': (script) => ({ command: 'bash', args: [script], powershell: false }),
  '.js': (script) => ({ command: process.execPath, args: [script], powershell: false }),
  '.mjs': (script) => ({ command: process.execPath, args: [script], powershell: false }),
  '.py': (script) => ({ command: 'python3', args: [script], powershell: false }),
};

/** The extensions a worker script may have, for messages. */
export const RUNNABLE_EXTENSIONS: readonly string[] = Object.keys(INTERPRETERS);

export function interpreterFor(script: string): Interpreter | undefined {
  return INTERPRETERS[extname(script).toLowerCase()]?.(script);
}
