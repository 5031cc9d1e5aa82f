/**
 * Finds where PowerShell says an error happened, so the action can annotate the script line. Shapes:
 * - NormalView (Windows PowerShell, or PS7 with $ErrorView = 'NormalView'): the message, then `At /path/x.ps1:12 char:5`;
 * - PowerShell 7 ConciseView: `Write-Error: /path/x.ps1:12` (or `Exception: …`), a `Line |` block, `| message`;
 * - a printed $_.ScriptStackTrace (`at <ScriptBlock>, /path/x.ps1: line 12`, innermost frame first).
 * The worker wrapper prints PowerShell's own rendering of a terminating error followed by the script frames of its
 * stack trace (its own frames left out). The header is where the failing command was invoked, which is not always
 * the line to annotate: real pwsh names the caller's line (or no file) for a Write-Error under
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

/**
 * Without a console PowerShell wraps error messages at its host width, 80 (Out-String -Width does not change it).
 * A `Line |` block's message breaks at spaces only; a location-less error's (`Command: message`) also cuts a word
 * that does not fit, filling exactly 80 columns after `Command: `: such a part joins the next without a space.
 */
const BARE_WIDTH = 80;

interface Text {
  /** Lines without colours, trimmed. */
  lines: string[];
}

export function findErrorLocations(raw: readonly string[]): ErrorLocation[] {
  const text: Text = { lines: raw.map((line) => line.replace(ANSI, '').trim()) };
  const { lines } = text;
  const found: ErrorLocation[] = [];
  const stack: ErrorLocation[] = [];
  for (let i = 0; i < lines.length; i++) {
    const header = errorHeader(text, i);
    if (header) {
      const frames = framesAfter(lines, i + 1);
      found.push({ ...chooseLocation(header.place, frames.places), message: header.message });
      i = Math.max(i, frames.end - 1);
      continue;
    }
    if (FRAME.test(lines[i] ?? '')) {
      // A stack trace printed on its own (or after ConciseView's location-less form): the message is above it.
      const frames = framesAfter(lines, i);
      const innermost = frames.places.find(isScript) ?? frames.places[0];
      if (innermost) stack.push({ ...innermost, message: messageAbove(text, i) });
      i = Math.max(i, frames.end - 1);
    }
  }
  // A stack trace lists the innermost frame first: its first script (not module) frame is the line to show.
  return found.length > 0 || stack[0] === undefined ? found : [stack[0]];
}

/** Joins wrapped lines: with a space where PowerShell broke at one, without where it cut a word. */
function unwrap(
  text: Text,
  indexes: readonly number[],
  strip: (line: string) => string,
  width: number,
): string {
  let out = '';
  let cut = false;
  for (const j of indexes) {
    const part = strip(text.lines[j] ?? '').trim();
    if (part === '') continue;
    out += out === '' || cut ? part : ` ${part}`;
    cut = part.length >= width;
  }
  return out;
}

/**
 * The message above a stack trace: ConciseView's location-less form `Verb-Noun: message` (or `Exception: …`),
 * wrapped over a few lines, without the command; else the line just above.
 */
function messageAbove(text: Text, frameAt: number): string {
  const { lines } = text;
  for (let k = frameAt - 1; k >= Math.max(0, frameAt - 8) && lines[k] !== ''; k--) {
    if (!COMMAND_PREFIX.test(lines[k] ?? '')) continue;
    const indexes = Array.from({ length: frameAt - k }, (_, n) => k + n);
    return unwrap(text, indexes, (l) => l.replace(COMMAND_PREFIX, ''), BARE_WIDTH) || 'PowerShell error';
  }
  return (
    lines
      .slice(0, frameAt)
      .reverse()
      .find((l) => l !== '' && !l.startsWith('at ')) ?? 'PowerShell error'
  );
}

function place(match: RegExpExecArray | null): Place | undefined {
  return match?.[1] && match[2] ? { file: match[1], line: Number(match[2]) } : undefined;
}

function errorHeader(text: Text, i: number): { place: Place; message: string } | undefined {
  const { lines } = text;
  const line = lines[i] ?? '';
  const at = place(AT.exec(line));
  // NormalView: the message is the line before "At …".
  if (at) return { place: at, message: lines[i - 1] || 'PowerShell error' };
  const concise = place(CONCISE.exec(line));
  if (concise && lines[i + 1] === 'Line |') return { place: concise, message: conciseMessage(text, i + 2) };
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
function conciseMessage(text: Text, from: number): string {
  const { lines } = text;
  const message: number[] = [];
  for (let j = from; j < Math.min(lines.length, from + 12); j++) {
    const m = /^\|\s?(.*)$/.exec(lines[j] ?? '');
    if (!m) {
      if (/^\d+\s*\|/.test(lines[j] ?? '')) continue; // the code line(s)
      break;
    }
    const body = (m[1] ?? '').trim();
    if (/^~+$/.test(body.replace(/\s/g, '')) || body === '') continue; // the caret line
    message.push(j);
  }
  return (
    unwrap(text, message, (l) => l.replace(/^\|\s?/, ''), Number.POSITIVE_INFINITY) || 'PowerShell error'
  );
}
