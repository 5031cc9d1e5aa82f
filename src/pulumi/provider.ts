/**
 * What the provider methods share, run inside Pulumi's dynamic-provider host (one process per `pulumi up`): a
 * client per connection, built on a session that mints from the environment's federated token and shared by all
 * resources of that connection. The client retries throttling and re-mints tokens, so nothing here deals with
 * either. The methods themselves: object-provider.ts, settings-provider.ts.
 */
import { errorMessage } from '../core/errors.js';
import { exchangeOnline, type ExchangeOnlineClient } from '../exchange/index.js';
import {
  connectionKey,
  connectionSettings,
  resolveConnection,
  sessionFor,
  type ExchangeConnection,
} from './connection.js';
import {
  checkNounAndProperties,
  isUnknown,
  pick,
  plainLine,
  type Diff,
  type Failure,
  type Properties,
} from './model.js';

/** What the provider needs from the world: a client per connection, and somewhere to say things. */
export interface ProviderContext {
  env: NodeJS.ProcessEnv;
  clientFor(connection: ExchangeConnection): ExchangeOnlineClient;
  /** A line for the person running `pulumi up`. */
  log(message: string): void;
  /** Resolves once every line logged so far has been delivered. */
  delivered(): Promise<void>;
}

/** The real context: sessions from the environment's federated token, one per connection, kept per process. */
export function environmentContext(
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void | Promise<void> = (line) => void process.stderr.write(`${line}\n`),
): ProviderContext {
  const clients = new Map<string, ExchangeOnlineClient>();
  let pending: Promise<unknown> = Promise.resolve();
  const log = (message: string): void => {
    pending = Promise.all([pending, write(plainLine(message))]);
  };
  return {
    env,
    log,
    delivered: () => pending.then(() => undefined),
    clientFor(connection) {
      const key = connectionKey(connection);
      let client = clients.get(key);
      if (!client) {
        client = exchangeOnline(sessionFor(connection, env), {
          onWarning: (warning, cmdlet) => log(`${cmdlet}: ${warning}`),
        });
        clients.set(key, client);
      }
      return client;
    },
  };
}

export interface CheckResult<T> {
  inputs: T;
  failures: Failure[];
}

export type Raw = Record<string, unknown>;

/** Keys Pulumi's host adds (the serialized provider): carried through untouched. */
export function passThrough(raw: Raw): Raw {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => k.startsWith('__')));
}

/** Top-level inputs Pulumi does not know yet: kept as its placeholder so diff reports a change. */
export function unknowns(raw: Raw): Raw {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => isUnknown(v)));
}

/** What every resource checks first: its connection, its noun and its declared properties. */
export function checkManaged(
  news: Raw,
  env: NodeJS.ProcessEnv,
): { connection: ExchangeConnection; failures: Failure[] } {
  const connection = checkConnection(news['connection'], env);
  const properties = isUnknown(news['properties']) ? undefined : news['properties'];
  return {
    connection: connection.inputs,
    failures: [...connection.failures, ...checkNounAndProperties(news['noun'], properties)],
  };
}

/** `diff` once every input is known; during a preview an unknown input may change anything. */
export function diffKnown<O, I extends object>(olds: O, news: I, diff: (olds: O, news: I) => Diff): Diff {
  if (Object.values(news).some(isUnknown))
    return { changes: true, replaces: [], changed: [], deleteBeforeReplace: false };
  return diff(olds, news);
}

/** The connection with the environment's defaults, checked as the library checks settings. */
export function checkConnection(raw: unknown, env: NodeJS.ProcessEnv): CheckResult<ExchangeConnection> {
  if (isUnknown(raw)) return { inputs: {}, failures: [] };
  const { connection, failures } = resolveConnection(raw, env);
  if (failures.length > 0 || Object.values(connection).some(isUnknown))
    return { inputs: connection, failures };
  try {
    connectionSettings(connection);
  } catch (error) {
    failures.push({ property: 'connection', reason: errorMessage(error) });
  }
  return { inputs: connection, failures };
}

export async function run(
  client: ExchangeOnlineClient,
  cmdlet: string,
  parameters: Properties,
  select?: readonly string[],
): Promise<Record<string, unknown>[]> {
  return client.invoke(cmdlet, parameters, select ? { select } : undefined).all();
}

/** Reads back the declared keys; a key Get-<Noun> does not return keeps its declared value (write-only). */
export function readBack(
  row: Record<string, unknown> | undefined,
  declared: Properties,
  what: string,
  log: (m: string) => void,
): Properties {
  const values = pick(row ?? {}, Object.keys(declared));
  const present = new Set(Object.keys(row ?? {}).map((k) => k.toLowerCase()));
  for (const key of Object.keys(declared)) {
    if (row && !present.has(key.toLowerCase())) {
      values[key] = declared[key];
      log(`${what}: Get- returns no ${key}; Pulumi cannot see changes made to it outside Pulumi.`);
    }
  }
  return values;
}

/** A declared list or object, or its empty default (also while Pulumi does not know it yet). */
export function listOf(value: unknown): string[] {
  return Array.isArray(value) ? (value as string[]) : [];
}
export function propertiesOf(value: unknown): Properties {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Properties) : {};
}
