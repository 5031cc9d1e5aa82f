/**
 * The life of one session, as named states. Pure: the session (session.ts) asks `nextState` before acting on
 * a command or a frame, and treats undefined as a protocol error (a host that answers out of turn is not trusted).
 *
 *   starting ──connected──▶ ready ──run──▶ running ──end──▶ ready | disconnected
 *      │                     ▲  │                              │
 *      └─connect failed─▶ failed └─connect──▶ connecting ◀──connect─┘
 *   any ──stop──▶ stopping;  ready | disconnected | failed ──quit──▶ quitting;  any ──exit──▶ ended
 */
export type SessionState =
  | 'starting'
  | 'ready'
  | 'running'
  | 'disconnected'
  | 'connecting'
  | 'failed'
  | 'quitting'
  | 'stopping'
  | 'ended';

export type SessionEvent =
  | 'connect'
  | 'connected'
  | 'connect-failed'
  | 'run'
  | 'end-connected'
  | 'end-disconnected'
  | 'quit'
  | 'stop'
  | 'exit';

const TABLE: Readonly<Record<SessionState, Partial<Record<SessionEvent, SessionState>>>> = {
  starting: { connected: 'ready', 'connect-failed': 'failed' },
  ready: { run: 'running', connect: 'connecting', quit: 'quitting' },
  running: { 'end-connected': 'ready', 'end-disconnected': 'disconnected' },
  disconnected: { connect: 'connecting', quit: 'quitting' },
  connecting: { connected: 'ready', 'connect-failed': 'failed' },
  failed: { quit: 'quitting' },
  quitting: {},
  stopping: {},
  ended: {},
};

export function nextState(state: SessionState, event: SessionEvent): SessionState | undefined {
  if (state === 'ended') return undefined;
  if (event === 'exit') return 'ended';
  if (event === 'stop') return state === 'stopping' ? undefined : 'stopping';
  return TABLE[state][event];
}

/** A session that can take a script now, or after a reconnect. */
export function canRun(state: SessionState): boolean {
  return state === 'ready' || state === 'disconnected';
}
