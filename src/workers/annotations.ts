/**
 * Finds where PowerShell says an error happened, so the action can annotate the script line. Shapes:
 * - NormalView (Windows PowerShell, or PS7 with $ErrorView = 'NormalView'): the message, then `At /path/x.ps1:12 char:5`;
 * - PowerShell 7 ConciseView: `Write-Error: /path/x.ps1:12` (or `Exception: …`), a `Line |` block, `| message`;
 * - a printed $_.ScriptStackTrace (`at <ScriptBlock>, /path/x.ps1: line 12`), used only when nothing else matched.
 */
export interface ErrorLocation {
  message: string;
  file: string;
  line: number;
}

const PS1 = String.raw`(\/[^:]+\.ps1|[A-Za-z]:\\[^:]+\.ps1)`;
const AT = new RegExp(String.raw`^At ${PS1}:(\d+) char:\d+`);
const CONCISE = new RegExp(String.raw`^(?:[\w.-]+: )?${PS1}:(\d+)\s*$`);
const STACK = new RegExp(String.raw`^at .*, ${PS1}: line (\d+)\s*$`);
// PS7 colours errors when it thinks the host can show them; the escapes would break the patterns.
const ANSI = new RegExp(String.raw`\u001b\[[0-9;?]*[A-Za-z]`, 'g');

export function findErrorLocations(raw: readonly string[]): ErrorLocation[] {
  const lines = raw.map((line) => line.replace(ANSI, '').trimEnd());
  const found: ErrorLocation[] = [];
  const stack: ErrorLocation[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const at = AT.exec(line);
    if (at?.[1] && at[2]) {
      // NormalView: the message is the line before "At …".
      found.push({
        file: at[1],
        line: Number(at[2]),
        message: (lines[i - 1] ?? '').trim() || 'PowerShell error',
      });
      continue;
    }
    const concise = CONCISE.exec(line);
    if (concise?.[1] && concise[2] && (lines[i + 1] ?? '').trim() === 'Line |') {
      found.push({ file: concise[1], line: Number(concise[2]), message: conciseMessage(lines, i + 2) });
      continue;
    }
    const frame = STACK.exec(line);
    if (frame?.[1] && frame[2]) {
      const before = lines
        .slice(0, i)
        .reverse()
        .find((l) => l.trim() !== '' && !/^\s*at /.test(l));
      stack.push({ file: frame[1], line: Number(frame[2]), message: before?.trim() || 'PowerShell error' });
    }
  }
  // A stack trace lists every frame; the innermost (first) one is where the error happened.
  return found.length > 0 || stack[0] === undefined ? found : [stack[0]];
}

/** After `Line |`: `  12 |  code`, `     |  ~~~~`, then one or more `     | message` lines. */
function conciseMessage(lines: readonly string[], from: number): string {
  const message: string[] = [];
  for (let j = from; j < Math.min(lines.length, from + 12); j++) {
    const m = /^\s*\|\s?(.*)$/.exec(lines[j] ?? '');
    if (!m) {
      if (/^\s*\d+\s*\|/.test(lines[j] ?? '')) continue; // the code line(s)
      break;
    }
    const text = (m[1] ?? '').trim();
    if (/^~+$/.test(text.replace(/\s/g, '')) || text === '') continue; // the caret line
    message.push(text);
  }
  return message.join(' ') || 'PowerShell error';
}
