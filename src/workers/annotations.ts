/**
 * Finds where PowerShell says an error happened, so the action can annotate the script line. Shapes:
 * - NormalView (Windows PowerShell, or PS7 with $ErrorView = 'NormalView'): the message, then `At /path/x.ps1:12 char:5`;
 * - PowerShell 7 ConciseView: `Write-Error: /path/x.ps1:12` (or `Exception: …`), a `Line |` block, `| message`;
 * - a printed $_.ScriptStackTrace (`at <ScriptBlock>, /path/x.ps1: line 12`, innermost frame first).
 * The worker wrapper prints PowerShell's own rendering of a terminating error followed by the script frames of its
 * stack trace (its own frames left out). The header is where the failing command was invoked, which is not always
 * the line to annotate: real pwsh names the wrapper's `& script` line for a Write-Error under
 * ErrorActionPreference Stop, and a module's file (ExchangeOnlineManagement's generated .psm1) for its cmdlets'
 * errors. So when frames follow, the header is kept only if it is a .ps1 file among them; otherwise the innermost
 * .ps1 frame wins.
 */
export interface ErrorLocation {
  message: string;
  file: string;
  line: number;
}

const SCRIPT = String.raw`((?:\/|[A-Za-z]:\\)[^:]*?\.ps[m]?1)`;
const AT = new RegExp(String.raw`^At ${SCRIPT}:(\d+) char:\d+`);
const CONCISE = new RegExp(String.raw`^(?:[\w.-]+: )?${SCRIPT}:(\d+)\s*$`);
const FRAME = new RegExp(String.raw`^at .*, ${SCRIPT}: line (\d+)\s*$`);
const COMMAND_PREFIX = /^(?:[A-Z][a-z]+-[A-Za-z0-9]+|[A-Za-z.]*Exception|ParserError): /;
// PS7 colours errors when it thinks the host can show them; the escapes would break the patterns.
const ANSI = new RegExp(String.raw`\u001b\[[0-9;?]*[A-Za-z]`, 'g');

interface Place {
  file: string;
  line: number;
}

export function findErrorLocations(raw: readonly string[]): ErrorLocation[] {
  const lines = raw.map((line) => line.replace(ANSI, '').trim());
  const found: ErrorLocation[] = [];
  const stack: ErrorLocation[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const header = errorHeader(lines, i);
    if (header) {
      const frames = framesAfter(lines, i + 1);
      found.push({ ...chooseLocation(header.place, frames.places), message: header.message });
      i = Math.max(i, frames.end - 1);
      continue;
    }
    if (FRAME.test(line)) {
      // A stack trace printed on its own: the message is the line before it.
      const frames = framesAfter(lines, i);
      const before = lines
        .slice(0, i)
        .reverse()
        .find((l) => l !== '' && !l.startsWith('at '));
      const innermost = frames.places.find(isScript) ?? frames.places[0];
      // ConciseView without a location: `Verb-Noun: message` (or `Exception: …`); the command is not the message.
      const message = (before ?? '').replace(COMMAND_PREFIX, '');
      if (innermost) stack.push({ ...innermost, message: message || 'PowerShell error' });
      i = Math.max(i, frames.end - 1);
    }
  }
  // A stack trace lists the innermost frame first: its first script (not module) frame is the line to show.
  return found.length > 0 || stack[0] === undefined ? found : [stack[0]];
}

function place(match: RegExpExecArray | null): Place | undefined {
  return match?.[1] && match[2] ? { file: match[1], line: Number(match[2]) } : undefined;
}

function errorHeader(lines: readonly string[], i: number): { place: Place; message: string } | undefined {
  const line = lines[i] ?? '';
  const at = place(AT.exec(line));
  // NormalView: the message is the line before "At …".
  if (at) return { place: at, message: lines[i - 1] || 'PowerShell error' };
  const concise = place(CONCISE.exec(line));
  if (concise && lines[i + 1] === 'Line |') return { place: concise, message: conciseMessage(lines, i + 2) };
  return undefined;
}

/** The frames printed right after an error block (its `+ …` / `| …` lines and blank lines skipped). */
function framesAfter(lines: readonly string[], from: number): { places: Place[]; end: number } {
  const places: Place[] = [];
  let j = from;
  for (; j < Math.min(lines.length, from + 40); j++) {
    const line = lines[j] ?? '';
    const frame = place(FRAME.exec(line));
    if (frame) places.push(frame);
    else if (line.startsWith('at '))
      continue; // a frame without a file (<No file>)
    else if (places.length > 0) break;
    else if (!(line === '' || /^(?:\+|\||Line \||\d+ \|)/.test(line))) break;
  }
  return { places, end: places.length > 0 ? j : from };
}

const isScript = (p: Place): boolean => /\.ps1$/i.test(p.file);

function chooseLocation(header: Place, frames: readonly Place[]): Place {
  if (frames.length === 0) return header;
  const listed = frames.some((f) => f.file === header.file && f.line === header.line);
  if (isScript(header) && listed) return header;
  return frames.find(isScript) ?? header;
}

/** After `Line |`: `  12 |  code`, `     |  ~~~~`, then one or more `     | message` lines. */
function conciseMessage(lines: readonly string[], from: number): string {
  const message: string[] = [];
  for (let j = from; j < Math.min(lines.length, from + 12); j++) {
    const m = /^\|\s?(.*)$/.exec(lines[j] ?? '');
    if (!m) {
      if (/^\d+\s*\|/.test(lines[j] ?? '')) continue; // the code line(s)
      break;
    }
    const text = (m[1] ?? '').trim();
    if (/^~+$/.test(text.replace(/\s/g, '')) || text === '') continue; // the caret line
    message.push(text);
  }
  return message.join(' ') || 'PowerShell error';
}
