/** A worker's output: bounded to a budget, redacted by line, and the note of what was left out. */

export interface DroppedOutput {
  /** Whole lines left out. */
  lines: number;
  /** Their bytes (each counted with its newline), plus the cut-off starts of lines too long for the budget. */
  bytes: number;
}

/** Redacts one line; `cutAtFront` when its start was dropped, so it may begin with the end of a secret. */
export type LineRedactor = (line: string, cutAtFront: boolean) => string;

/**
 * A worker's output, bounded: the last lines whose UTF-8 bytes (each with its newline) fit in `maxBytes`, so a
 * runaway script cannot exhaust the action's memory, while the end, where the error is, stays. Pure: the
 * process wiring feeds it chunks. A line longer than the budget keeps its end, behind a leading '…'.
 */
export class OutputTail {
  private kept: string[] = [];
  /** kept[0 .. head) are dropped; compacted now and then rather than shifted one by one. */
  private head = 0;
  private keptBytes = 0;
  private readonly dropped: DroppedOutput = { lines: 0, bytes: 0 };
  private readonly partial = {
    stdout: { text: '', cut: false },
    stderr: { text: '', cut: false },
  };

  constructor(
    private readonly maxBytes: number,
    private readonly redact: LineRedactor,
  ) {}

  write(stream: 'stdout' | 'stderr', chunk: string): void {
    const partial = this.partial[stream];
    // Split the chunk alone: re-splitting a long unfinished line with every chunk would be quadratic.
    const parts = chunk.split('\n');
    const rest = parts.pop() ?? '';
    for (const part of parts) {
      const line = partial.text + part;
      this.push(line.endsWith('\r') ? line.slice(0, -1) : line, partial.cut);
      partial.text = '';
      partial.cut = false;
    }
    partial.text += rest;
    // A line that never ends (a progress bar, binary noise) must stay bounded too: keep about a budget of its end.
    if (partial.text.length > 2 * this.maxBytes) {
      let from = partial.text.length - this.maxBytes;
      if (isLowSurrogate(partial.text.charCodeAt(from))) from++;
      this.dropped.bytes += Buffer.byteLength(partial.text.slice(0, from));
      partial.text = partial.text.slice(from);
      partial.cut = true;
    }
  }

  /** Flushes unfinished last lines; then returns what is kept. */
  end(): { lines: string[]; dropped: DroppedOutput } {
    for (const partial of [this.partial.stdout, this.partial.stderr]) {
      if (partial.text !== '') this.push(partial.text, partial.cut);
      partial.text = '';
      partial.cut = false;
    }
    return { lines: this.kept.slice(this.head), dropped: { ...this.dropped } };
  }

  private push(raw: string, cutAtFront: boolean): void {
    // Redacted before any cut below: a cut through a whole secret would leave a piece no redaction matches.
    let line = this.redact(raw, cutAtFront);
    if (cutAtFront || Buffer.byteLength(line) + 1 > this.maxBytes) {
      const end = tailWithinBytes(line, this.maxBytes - 1 - ELLIPSIS_BYTES);
      this.dropped.bytes += Buffer.byteLength(line) - Buffer.byteLength(end);
      line = ELLIPSIS + end;
    }
    const size = Buffer.byteLength(line) + 1;
    while (this.keptBytes + size > this.maxBytes && this.head < this.kept.length) this.dropFirst();
    this.kept.push(line);
    this.keptBytes += size;
    if (this.head > 1024 && this.head * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.head);
      this.head = 0;
    }
  }

  private dropFirst(): void {
    const size = Buffer.byteLength(this.kept[this.head] ?? '') + 1;
    this.head++;
    this.keptBytes -= size;
    this.dropped.lines++;
    this.dropped.bytes += size;
  }
}

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = Buffer.byteLength(ELLIPSIS);

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** The longest end of `text` whose UTF-8 encoding fits in `maxBytes`, never starting inside a character. */
export function tailWithinBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = text.length;
  while (i > 0) {
    const code = text.charCodeAt(i - 1);
    const pair = isLowSurrogate(code) && i >= 2 && isHighSurrogate(text.charCodeAt(i - 2));
    // A lone surrogate is encoded as U+FFFD, 3 bytes.
    const size = pair ? 4 : code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i -= pair ? 2 : 1;
  }
  return text.slice(i);
}

/** A worker's output kept for its group when RunWorkersOptions.maxOutputBytes is not given. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** `cutAtFront`: the line's start was dropped, so it may begin with the end of a secret; that end is masked too. */
export function redact(line: string, secrets: readonly string[], cutAtFront = false): string {
  let out = line;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('***');
  if (cutAtFront) {
    for (const secret of secrets) {
      for (let k = secret.length - 1; k >= 8; k--) {
        if (out.startsWith(secret.slice(-k))) {
          out = `***${out.slice(k)}`;
          break;
        }
      }
    }
  }
  return out;
}

/** 512 bytes, 3.2 KiB, 1 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / (1024 * 1024), 'MiB'];
  return `${Number(value.toFixed(1))} ${unit}`;
}

/** The first line of a group whose output was cut to the budget; undefined when nothing was left out. */
export function droppedOutputNote(dropped: DroppedOutput, maxBytes: number): string | undefined {
  if (dropped.lines === 0 && dropped.bytes === 0) return undefined;
  const what =
    dropped.lines === 0
      ? `${formatBytes(dropped.bytes)} of earlier output`
      : `${dropped.lines} earlier ${dropped.lines === 1 ? 'line' : 'lines'} (${formatBytes(dropped.bytes)})`;
  return `… ${what} not shown: exo-login keeps the last ${formatBytes(maxBytes)} of a worker's output`;
}
