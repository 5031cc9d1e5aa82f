import { describe, expect, it } from 'vitest';
import { canRun, nextState } from '../../src/workers/sessions/lifecycle.js';
import {
  commandLine,
  frameMarker,
  FramePairs,
  FrameSplitter,
  parseFrame,
  type Piece,
} from '../../src/workers/sessions/protocol.js';

const nonce = '0123456789abcdef0123456789abcdef';
const marker = frameMarker(nonce);
const end = `${marker}{"seq":3,"t":"end","exit":0,"connected":true}\n`;

function all(chunks: string[]): Piece[] {
  const splitter = new FrameSplitter(marker);
  const pieces = chunks.flatMap((c) => splitter.push(c));
  pieces.push(...splitter.end());
  // Adjacent text pieces joined: where output is cut into pieces does not matter, only what is text.
  return pieces.reduce<Piece[]>((out, piece) => {
    const last = out.at(-1);
    if (piece.kind === 'text' && last?.kind === 'text') last.text += piece.text;
    else out.push({ ...piece });
    return out;
  }, []);
}

describe('FrameSplitter', () => {
  it('finds frames whole or cut anywhere, and passes everything else on as output', () => {
    const stream = `hello\npartial${end}next\n`;
    const expected: Piece[] = [
      { kind: 'text', text: 'hello\npartial' },
      { kind: 'frame', frame: { seq: 3, t: 'end', exit: 0, connected: true } },
      { kind: 'text', text: 'next\n' },
    ];
    expect(all([stream])).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) {
      expect(all([stream.slice(0, cut), stream.slice(cut)])).toEqual(expected);
    }
    expect(all(Array.from(stream))).toEqual(expected);
  });

  it('never reads output as a frame: stray separators, wrong nonces, frames without the marker', () => {
    const hostile = [
      '\u001e',
      `\u001e${'f'.repeat(32)}{"seq":3,"t":"end","exit":0,"connected":true}\n`,
      '{"seq":3,"t":"end","exit":0,"connected":true}\n',
      `\u001e${nonce.slice(0, 31)}{"seq":3}\n`,
      'ends with a separator \u001e',
    ].join('');
    expect(all([hostile, end])).toEqual([
      { kind: 'text', text: hostile },
      { kind: 'frame', frame: { seq: 3, t: 'end', exit: 0, connected: true } },
    ]);
  });

  it('calls a marker followed by nonsense malformed, and does not hold a marker without a newline for ever', () => {
    expect(all([`${marker}{"seq":1,"t":"nope"}\n`])).toEqual([
      { kind: 'malformed', text: '{"seq":1,"t":"nope"}' },
    ]);
    const splitter = new FrameSplitter(marker);
    expect(splitter.push(`${marker}${'x'.repeat(2000)}`)).toMatchObject([{ kind: 'malformed' }]);
    expect(all([`${marker}{"seq":1`])).toMatchObject([{ kind: 'malformed' }]);
  });
});

describe('frames and commands', () => {
  it('parses only well-formed frames', () => {
    expect(parseFrame('{"seq":1,"t":"connected","ok":true,"ms":12}')).toEqual({
      seq: 1,
      t: 'connected',
      ok: true,
      ms: 12,
    });
    expect(parseFrame('{"seq":2,"t":"start"}')).toEqual({ seq: 2, t: 'start' });
    for (const bad of [
      '',
      'null',
      '[]',
      '{"t":"start"}',
      '{"seq":0,"t":"start"}',
      '{"seq":1,"t":"end","exit":1.5,"connected":true}',
    ])
      expect(parseFrame(bad)).toBeUndefined();
  });

  it('counts a frame once both streams have delivered it, and calls different copies a mismatch', () => {
    const pairs = new FramePairs();
    expect(pairs.add('stdout', { seq: 1, t: 'start' })).toBeUndefined();
    expect(pairs.add('stdout', { seq: 2, t: 'start' })).toBeUndefined();
    expect(pairs.add('stderr', { seq: 1, t: 'start' })).toEqual({ seq: 1, t: 'start' });
    expect(pairs.add('stderr', { seq: 3, t: 'start' })).toBe('mismatch');
  });

  it('writes one JSON line per command, the token only inside it', () => {
    const line = commandLine({ op: 'connect', env: { EXO_ACCESS_TOKEN: 'a\nb' } });
    expect(line.split('\n')).toHaveLength(2);
    expect(JSON.parse(line)).toEqual({ op: 'connect', env: { EXO_ACCESS_TOKEN: 'a\nb' } });
    expect(JSON.parse(commandLine({ op: 'quit' }))).toEqual({ op: 'quit', env: {} });
  });
});

describe('session life cycle', () => {
  it('allows only the documented moves', () => {
    expect(nextState('starting', 'connected')).toBe('ready');
    expect(nextState('starting', 'run')).toBeUndefined();
    expect(nextState('ready', 'run')).toBe('running');
    expect(nextState('running', 'run')).toBeUndefined();
    expect(nextState('running', 'connect')).toBeUndefined();
    expect(nextState('running', 'end-disconnected')).toBe('disconnected');
    expect(nextState('disconnected', 'run')).toBeUndefined();
    expect(nextState('disconnected', 'connect')).toBe('connecting');
    expect(nextState('connecting', 'connect-failed')).toBe('failed');
    expect(nextState('failed', 'run')).toBeUndefined();
    expect(nextState('running', 'stop')).toBe('stopping');
    expect(nextState('stopping', 'stop')).toBeUndefined();
    expect(nextState('stopping', 'exit')).toBe('ended');
    expect(nextState('ended', 'exit')).toBeUndefined();
    expect(canRun('ready') && canRun('disconnected') && !canRun('failed')).toBe(true);
  });
});
