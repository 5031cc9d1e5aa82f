import { logText } from '../core/workflow-commands.js';

/** What the CLI reads and writes, injectable so it can be embedded and tested in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Read only for --version. */
  version: () => string;
}

// Words that keep their capital at the start of a message: names, not sentence starts.
// A cmdlet name (Get-Mailbox) is a name too.
const PROPER =
  /^(Entra|Exchange|PowerShell|Connect-ExchangeOnline|Node|Microsoft|Azure|GitLab|Kubernetes|[A-Z][a-z]+-[A-Z][A-Za-z0-9]*)\b/;

/** One style for every CLI message: `exo-login: ` and a lower-case start (names and acronyms keep theirs). */
export function cliMessage(text: string): string {
  const start =
    /^[A-Z][a-z]/.test(text) && !PROPER.test(text) ? `${text[0]?.toLowerCase() ?? ''}${text.slice(1)}` : text;
  return `exo-login: ${start}`;
}

/** Writes messages to stderr in the CLI's style. */
export function messenger(io: CliIo): { say: (text: string) => void; warn: (text: string) => void } {
  return {
    // Messages carry outside text (server answers, file names), and the runner reads stderr in a workflow step.
    say: (text) => io.stderr.write(`${logText(cliMessage(text))}\n`),
    warn: (text) => io.stderr.write(`${logText(cliMessage(`warning: ${text}`))}\n`),
  };
}
