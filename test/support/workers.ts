/** Shared by the worker suites (test/workers, test/integration): workspaces, the stand-in's events, liveness. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ExoTokens } from '../../src/core/tokens.js';
import type { Logger } from '../../src/workers/index.js';
import { signedJwt, testSigningKey } from './jwt.js';

export const BIN = resolve(import.meta.dirname, '../bin');

let counter = 0;

/** A real RS256 JWT the stand-in can verify against `publicKeyFile()`. */
export function jwt(expiresOn: Date, claims: Record<string, unknown> = {}): string {
  return signedJwt({
    aud: 'https://outlook.office365.com',
    tid: '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d',
    roles: ['Exchange.ManageAsApp'],
    exp: Math.floor(expiresOn.getTime() / 1000),
    jti: `t${++counter}`,
    ...claims,
  });
}

export async function publicKeyFile(dir: string): Promise<string> {
  const file = join(dir, 'public.pem');
  await writeFile(file, testSigningKey().publicKey.export({ type: 'spki', format: 'pem' }));
  return file;
}

export function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

export function tokensFor(
  expiresOn: Date,
  options: { compliance?: boolean; organization?: string | undefined } = {},
): ExoTokens {
  const claims = {
    tenantId: undefined,
    appId: undefined,
    objectId: undefined,
    audience: undefined,
    roles: [],
  };
  const exchange = jwt(expiresOn);
  return {
    environment: 'O365Default',
    tenantId: '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d',
    organization: 'organization' in options ? options.organization : 'contoso.onmicrosoft.com',
    tokens: {
      exchange: {
        kind: 'exchange',
        resource: 'https://outlook.office365.com',
        token: exchange,
        expiresOn,
        claims,
      },
      ...(options.compliance && {
        compliance: {
          kind: 'compliance' as const,
          resource: 'https://ps.compliance.protection.outlook.com',
          token: jwt(expiresOn, { aud: 'https://ps.compliance.protection.outlook.com' }),
          expiresOn,
          claims,
        },
      }),
    },
    expiresOn,
    warnings: [],
  };
}

export interface Recorded {
  logger: Logger;
  infos: string[];
  errors: { message: string; location: { file: string; startLine: number } | undefined }[];
  groups: { title: string; lines: readonly string[] }[];
  /** Everything printed, in order, as text. */
  text(): string;
}

export function recordingLogger(): Recorded {
  const all: string[] = [];
  const recorded: Recorded = {
    infos: [],
    errors: [],
    groups: [],
    text: () => all.join('\n'),
    logger: {
      info: (message) => {
        recorded.infos.push(message);
        all.push(message);
      },
      warning: (message) => all.push(message),
      error: (message, location) => {
        recorded.errors.push({ message, location });
        all.push(message);
      },
      group: (title, lines) => {
        recorded.groups.push({ title, lines });
        all.push(title, ...lines);
      },
    },
  };
  return recorded;
}

export async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-workers-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  await mkdir(join(dir, 'tmp'));
  await chmod(join(dir, 'tmp'), 0o755);
  return dir;
}

export interface StandinEvent {
  event: 'start' | 'end' | 'violation' | 'barrier';
  pid: number;
  worker: string;
  start: number;
  time: number;
  end?: number;
  children: number[];
  fingerprint?: string;
  exp?: number;
  message?: string;
  /** start: the worker's working directory, the wrapper's real path, and whether a compliance token came. */
  cwd?: string;
  wrapper?: string;
  script?: string;
  compliance?: boolean;
  /** barrier: whether the awaited number of workers arrived before the deadline, and how many did. */
  reached?: boolean;
  seen?: number;
}

export async function standinEvents(log: string): Promise<StandinEvent[]> {
  if (!existsSync(log)) return [];
  return (await readFile(log, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StandinEvent);
}

/** Each started worker's lifetime, from its start event to its end event (Infinity if it never ended). */
export function standinIntervals(events: readonly StandinEvent[]): { start: number; end: number }[] {
  const ends = new Map(events.filter((e) => e.event === 'end').map((e) => [e.pid, e.end ?? e.time]));
  return events
    .filter((e) => e.event === 'start')
    .map((e) => ({ start: e.start, end: ends.get(e.pid) ?? Infinity }));
}

/** Most workers alive at once, from start/end times. */
export function maxOverlap(intervals: readonly { start: number; end: number }[]): number {
  const points = intervals.flatMap((i): [number, number][] => [
    [i.start, 1],
    [i.end, -1],
  ]);
  // Ends before starts at the same millisecond: a lane hands over, it does not overlap.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, delta] of points) max = Math.max(max, (now += delta));
  return max;
}

/**
 * Whether `pid` still runs. A zombie (exited, not yet reaped by a container's PID 1) or a dying process (X)
 * counts as dead; without /proc, whether it can be signalled.
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
