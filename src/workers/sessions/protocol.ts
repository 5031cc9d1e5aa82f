import { randomBytes } from 'node:crypto';

/**
 * The session protocol, pure. Commands go to the host as JSON lines on fd 3; the host answers with frames on
 * stdout and stderr alike: RS (U+001E), the session's nonce, a JSON object, a newline. Everything else on those
 * streams is output, of the script that is running or of the session (connect messages) between scripts.
 */

export type Frame =
  | { seq: number; t: 'connected'; ok: boolean; ms: number }
  | { seq: number; t: 'start' }
  | { seq: number; t: 'end'; exit: number; connected: boolean };

export type Command =
  | { op: 'connect'; env: Record<string, string> }
  | { op: 'run'; script: string; cwd: string; env: Record<string, string> }
  | { op: 'quit' };

/** 128 random bits, hex: what makes a frame marker impossible to print by chance. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The first line the host reads. */
export function helloLine(nonce: string): string {
  return `${JSON.stringify({ nonce })}\n`;
}

export function commandLine(command: Command): string {
  const env = command.op === 'quit' ? {} : command.env;
  return `${JSON.stringify({ ...command, env })}\n`;
}

export function frameMarker(nonce: string): string {
  return `\u001e${nonce}`;
}

/** A piece of one stream: output text (any length, not cut at lines), a frame, or a frame that makes no sense. */
export type Piece =
  { kind: 'text'; text: string } | { kind: 'frame'; frame: Frame } | { kind: 'malformed'; text: string };

/**
 * Cuts one stream into output and frames. Output is passed on as soon as it cannot be the start of a marker; a
 * marker split across chunks is held until it is whole. Only text after the full marker is ever read as a frame.
 */
export class FrameSplitter {
  private buffer = '';

  constructor(private readonly marker: string) {}

  push(chunk: string): Piece[] {
    this.buffer += chunk;
    const pieces: Piece[] = [];
    for (;;) {
      const at = this.buffer.indexOf(this.marker);
      if (at === -1) {
        const keep = heldBack(this.buffer, this.marker);
        const text = this.buffer.slice(0, this.buffer.length - keep);
        if (text !== '') pieces.push({ kind: 'text', text });
        this.buffer = this.buffer.slice(this.buffer.length - keep);
        return pieces;
      }
      if (at > 0) pieces.push({ kind: 'text', text: this.buffer.slice(0, at) });
      const newline = this.buffer.indexOf('\n', at + this.marker.length);
      if (newline === -1) {
        this.buffer = this.buffer.slice(at);
        // A frame is a few dozen bytes: anything longer after a marker is not one.
        if (this.buffer.length > MAX_FRAME) {
          pieces.push({ kind: 'malformed', text: this.buffer.slice(this.marker.length, MAX_FRAME) });
          this.buffer = '';
        }
        return pieces;
      }
      const body = this.buffer.slice(at + this.marker.length, newline);
      const frame = parseFrame(body);
      pieces.push(frame ? { kind: 'frame', frame } : { kind: 'malformed', text: body });
      this.buffer = this.buffer.slice(newline + 1);
    }
  }

  /** At the end of the stream: what was held back is output (a frame cut off by a dying host is not a frame). */
  end(): Piece[] {
    const rest = this.buffer;
    this.buffer = '';
    if (rest === '') return [];
    return rest.startsWith(this.marker)
      ? [{ kind: 'malformed', text: rest }]
      : [{ kind: 'text', text: rest }];
  }
}

const MAX_FRAME = 1024;

/** How many characters at the end of `text` could begin `marker`. */
function heldBack(text: string, marker: string): number {
  const from = Math.max(0, text.length - marker.length + 1);
  for (let i = from; i < text.length; i++) {
    if (marker.startsWith(text.slice(i))) return text.length - i;
  }
  return 0;
}

export function parseFrame(body: string): Frame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const seq = v['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  switch (v['t']) {
    case 'connected':
      return typeof v['ok'] === 'boolean' && typeof v['ms'] === 'number'
        ? { seq, t: 'connected', ok: v['ok'], ms: v['ms'] }
        : undefined;
    case 'start':
      return { seq, t: 'start' };
    case 'end':
      return Number.isSafeInteger(v['exit']) && typeof v['connected'] === 'boolean'
        ? { seq, t: 'end', exit: v['exit'] as number, connected: v['connected'] }
        : undefined;
    default:
      return undefined;
  }
}

/**
 * Frames come twice, once per stream; one counts when both copies have arrived, so that each stream's output
 * before it has been read. Pure bookkeeping: feed it each stream's frames, it returns those now complete.
 */
export class FramePairs {
  private readonly waiting = { stdout: [] as Frame[], stderr: [] as Frame[] };

  add(stream: 'stdout' | 'stderr', frame: Frame): Frame | 'mismatch' | undefined {
    const other = this.waiting[stream === 'stdout' ? 'stderr' : 'stdout'];
    const first = other[0];
    if (first === undefined) {
      this.waiting[stream].push(frame);
      return undefined;
    }
    other.shift();
    return first.seq === frame.seq && first.t === frame.t ? frame : 'mismatch';
  }
}
