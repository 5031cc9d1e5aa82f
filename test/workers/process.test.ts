import { describe, expect, it } from 'vitest';
import { OutputTail, tailWithinBytes, type LineRedactor } from '../../src/workers/output.js';
import { redact } from '../../src/workers/output.js';

const asIs: LineRedactor = (line) => line;
const bytesOf = (lines: readonly string[]): number =>
  lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);

describe('OutputTail', () => {
  it('keeps output within the budget as it came, joining lines split across chunks and streams', () => {
    const tail = new OutputTail(1024, asIs);
    tail.write('stdout', 'one\r');
    tail.write('stderr', 'tw');
    tail.write('stdout', '\ntwo and a half\nthr');
    tail.write('stderr', 'o\n');
    tail.write('stdout', 'ee');
    expect(tail.end()).toEqual({
      lines: ['one', 'two and a half', 'two', 'three'],
      dropped: { lines: 0, bytes: 0 },
    });
  });

  it('keeps exactly the last lines that fit, counting each with its newline, and what it dropped', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}`);
    const tail = new OutputTail(1024, asIs);
    // Chunks that split lines (and a two-byte character) anywhere.
    const text = `${lines.join('\n')}\n`;
    for (let i = 0; i < text.length; i += 37) tail.write('stdout', text.slice(i, i + 37));
    const { lines: kept, dropped } = tail.end();
    expect(bytesOf(kept)).toBeLessThanOrEqual(1024);
    // The next earlier line would not have fitted.
    expect(bytesOf(lines.slice(-kept.length - 1))).toBeGreaterThan(1024);
    expect(kept).toEqual(lines.slice(-kept.length));
    expect(dropped).toEqual({
      lines: lines.length - kept.length,
      bytes: bytesOf(lines.slice(0, -kept.length)),
    });
  });

  it('an exact fit keeps everything; one line more drops the first', () => {
    const line = 'x'.repeat(63); // 64 bytes with its newline: 16 lines fill 1 KiB
    const fits = new OutputTail(1024, asIs);
    fits.write('stdout', `${line}\n`.repeat(16));
    expect(fits.end()).toEqual({ lines: Array<string>(16).fill(line), dropped: { lines: 0, bytes: 0 } });
    const over = new OutputTail(1024, asIs);
    over.write('stdout', `${line}\n`.repeat(16) + 'y');
    expect(over.end()).toEqual({
      lines: [...Array<string>(15).fill(line), 'y'],
      dropped: { lines: 1, bytes: 64 },
    });
  });

  it('a line longer than the budget keeps its end behind …, and the earlier lines go', () => {
    const tail = new OutputTail(1024, asIs);
    tail.write('stdout', `before\n${'a'.repeat(3000)}THE END\n`);
    const { lines, dropped } = tail.end();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^…a+THE END$/);
    expect(Buffer.byteLength(lines[0] ?? '') + 1).toBe(1024);
    expect(dropped.lines).toBe(1);
    // Everything written is either kept or counted as dropped (the … marker is ours).
    expect(dropped.bytes + Buffer.byteLength(lines[0] ?? '') + 1 - Buffer.byteLength('…')).toBe(
      7 + 3000 + 7 + 1,
    );
  });

  it('stays bounded on output that never ends a line, and keeps its end', () => {
    const tail = new OutputTail(1024, asIs);
    const chunk = '0123456789'.repeat(6554); // about 64 KiB, the size of a pipe read
    for (let i = 0; i < 200; i++) tail.write('stdout', chunk);
    // Reach into the unfinished line: it must be cut as it grows, not only when it ends.
    const partial = (tail as unknown as { partial: { stdout: { text: string } } }).partial.stdout.text;
    expect(partial.length).toBeLessThanOrEqual(2 * 1024);
    tail.write('stdout', 'last words');
    const { lines, dropped } = tail.end();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^…[0-9]+last words$/);
    expect(Buffer.byteLength(lines[0] ?? '') + 1).toBe(1024);
    expect(dropped).toEqual({
      lines: 0,
      bytes: 200 * chunk.length + 'last words'.length - (Buffer.byteLength(lines[0] ?? '') - 3),
    });
  });

  it('redacts every kept line, before cutting a long one', () => {
    const secret = `eyJ${'s'.repeat(40)}.payload-part-of-the-token.signature-part`;
    const tail = new OutputTail(1024, (line, cut) => redact(line, [secret], cut));
    tail.write('stdout', `early ${secret}\n`.repeat(100));
    tail.write('stderr', `${'a'.repeat(2000)}${secret}tail\n`);
    const { lines } = tail.end();
    expect(lines).toEqual([`…${'a'.repeat(1024 - 1 - 3 - 3 - 4)}***tail`]);
  });

  it('masks the end of a secret where an unfinished line was cut through it', () => {
    const secret = `eyJ${'h'.repeat(20)}.${'p'.repeat(30)}.${'q'.repeat(10)}SIGNATURE`;
    const tail = new OutputTail(1024, (line, cut) => redact(line, [secret], cut));
    // The unfinished line grows past twice the budget and is cut to its last 1024 characters: 20 of them are the
    // secret's last 20, so no redaction of the whole secret can match them when the line ends.
    tail.write('stdout', 'a'.repeat(1100) + secret + 'b'.repeat(1004));
    tail.write('stdout', '\n');
    const { lines } = tail.end();
    expect(lines).toEqual([`…***${'b'.repeat(1004)}`]);
    for (let i = 0; i + 8 <= secret.length; i++) expect(lines[0]).not.toContain(secret.slice(i, i + 8));
  });
});

describe('tailWithinBytes', () => {
  it('never starts inside a character', () => {
    expect(tailWithinBytes('a😀b', 5)).toBe('😀b');
    expect(tailWithinBytes('a😀b', 4)).toBe('b');
    expect(tailWithinBytes('xé', 2)).toBe('é');
    expect(tailWithinBytes('xé', 1)).toBe('');
    expect(tailWithinBytes('abc', 10)).toBe('abc');
  });
});
