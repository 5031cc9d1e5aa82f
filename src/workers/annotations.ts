/**
 * Finds where PowerShell says an error happened, so the action can annotate the script line. Two shapes:
 * Windows PowerShell / NormalView: `At /path/x.ps1:12 char:5`; PowerShell 7 ConciseView: `Write-Error: /path/x.ps1:12`
 * followed by a `Line |` block.
 */
export interface ErrorLocation {
  message: string;
  file: string;
  line: number;
}

const AT = /^At (.+\.ps1):(\d+) char:\d+/;
const CONCISE = /^(?:[\w-]+: )?(\/[^:]+\.ps1|[A-Za-z]:\\[^:]+\.ps1):(\d+)\s*$/;

export function findErrorLocations(lines: readonly string[]): ErrorLocation[] {
  const found: ErrorLocation[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimEnd();
    const at = AT.exec(line.trim());
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
    if (concise?.[1] && concise[2]) {
      // ConciseView: the message follows the `Line |` block, on the first "| message" line after the caret line.
      let message = 'PowerShell error';
      for (let j = i + 1; j < Math.min(lines.length, i + 8); j++) {
        const m = /^\s*\|\s+(?![~\s]*$)(.*\S)\s*$/.exec(lines[j] ?? '');
        if (m?.[1] && !/^\d+\s*\|/.test((lines[j] ?? '').trim()) && !/^\s*\d+\s*\|/.test(lines[j] ?? ''))
          message = m[1];
      }
      found.push({ file: concise[1], line: Number(concise[2]), message });
    }
  }
  return found;
}
