/**
 * The provider methods behind the dynamic resources, run inside Pulumi's dynamic-provider host (one process per
 * `pulumi up`). Each operation takes its tokens from the environment through a session shared by the resources
 * of one connection; the client retries throttling and re-mints tokens, so nothing here deals with either.
 */
import { resolveSettings } from '../core/token.js';
import { errorMessage } from '../core/errors.js';
import { exchangeOnline, type ExchangeOnlineClient } from '../exchange/index.js';
import { connectionKey, resolveConnection, sessionFor, type ExchangeConnection } from './connection.js';
import { explainOperation, isReason, type OperationContext } from './errors.js';
import {
  changedKeys,
  checkNameList,
  checkNounAndProperties,
  diffObject,
  diffSettings,
  identityOf,
  isUnknown,
  pick,
  setParameters,
  settingsId,
  splitForCreate,
  type Diff,
  type Failure,
  type ObjectInputs,
  type ObjectOutputs,
  type Properties,
  type SettingsInputs,
  type SettingsOutputs,
} from './model.js';

/** What the provider needs from the world: a client per connection, and somewhere to say things. */
export interface ProviderContext {
  env: NodeJS.ProcessEnv;
  clientFor(connection: ExchangeConnection): ExchangeOnlineClient;
  /** A line for the person running `pulumi up` (the host shows a provider's stderr). */
  log(message: string): void;
}

/** The real context: sessions from the environment's federated token, one per connection, kept per process. */
export function environmentContext(
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): ProviderContext {
  const clients = new Map<string, ExchangeOnlineClient>();
  return {
    env,
    log,
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

type Raw = Record<string, unknown>;

/** Keys Pulumi's host adds (the serialized provider): carried through untouched. */
function passThrough(raw: Raw): Raw {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => k.startsWith('__')));
}

function checkConnection(raw: unknown, env: NodeJS.ProcessEnv): CheckResult<ExchangeConnection> {
  const { connection, failures } = resolveConnection(raw, env);
  if (failures.length > 0 || Object.values(connection).some(isUnknown))
    return { inputs: connection, failures };
  try {
    resolveSettings({
      tenantId: connection.tenantId ?? '',
      clientId: connection.clientId ?? '',
      ...connection,
    });
  } catch (error) {
    failures.push({ property: 'connection', reason: errorMessage(error) });
  }
  return { inputs: connection, failures };
}

function describeObject(noun: string, name: string): string {
  return `${noun} '${name}'`;
}

async function run(
  client: ExchangeOnlineClient,
  cmdlet: string,
  parameters: Properties,
  select?: readonly string[],
): Promise<Record<string, unknown>[]> {
  return client.invoke(cmdlet, parameters, select ? { select } : undefined).all();
}

/** Reads back the declared keys; a key Get-<Noun> does not return keeps its declared value (write-only). */
function readBack(
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

function selectFor(properties: Properties): string[] {
  return [...new Set(['Identity', 'Guid', 'Name', ...Object.keys(properties)])];
}

export function objectProvider(context: ProviderContext) {
  const log = (message: string): void => context.log(message);

  async function getRow(
    inputs: ObjectInputs,
    identity: string,
  ): Promise<Record<string, unknown> | undefined> {
    const client = context.clientFor(inputs.connection);
    try {
      const rows = await run(
        client,
        `Get-${inputs.noun}`,
        { Identity: identity },
        selectFor(inputs.properties),
      );
      return rows[0];
    } catch (error) {
      if (isReason(error, 'not-found')) return undefined;
      throw error;
    }
  }

  async function outputsFor(inputs: ObjectInputs, identity: string, what: string): Promise<ObjectOutputs> {
    const row = await getRow(inputs, identity);
    return {
      ...inputs,
      identity: identityOf(row, identity),
      properties: readBack(row, inputs.properties, what, log),
    };
  }

  return {
    async check(_olds: Raw, news: Raw): Promise<CheckResult<ObjectInputs & Raw>> {
      const connection = checkConnection(news['connection'], context.env);
      const failures = [
        ...connection.failures,
        ...checkNounAndProperties(news['noun'], news['properties']),
        ...checkNameList(news['createOnly'], 'createOnly'),
        ...checkNameList(news['setOnly'], 'setOnly'),
      ];
      const name = news['name'];
      if (!isUnknown(name) && (typeof name !== 'string' || name.trim() === '' || name.length > 64))
        failures.push({ property: 'name', reason: 'must be a non-empty name of at most 64 characters' });
      const inputs: ObjectInputs = {
        connection: connection.inputs,
        noun: String(news['noun']),
        name: typeof name === 'string' ? name.trim() : '',
        properties: (news['properties'] as Properties | undefined) ?? {},
        createOnly: (news['createOnly'] as string[] | undefined) ?? [],
        setOnly: (news['setOnly'] as string[] | undefined) ?? [],
      };
      return { inputs: { ...passThrough(news), ...inputs }, failures };
    },

    async diff(_id: string, olds: ObjectOutputs, news: ObjectInputs): Promise<Diff> {
      return diffObject(olds, news);
    },

    async create(inputs: ObjectInputs & Raw): Promise<{ id: string; outs: ObjectOutputs & Raw }> {
      const what = describeObject(inputs.noun, inputs.name);
      const client = context.clientFor(inputs.connection);
      const { forNew, forSet } = splitForCreate(inputs);
      let identity: string;
      try {
        const rows = await run(client, `New-${inputs.noun}`, { Name: inputs.name, ...forNew });
        identity = identityOf(rows[0], inputs.name);
      } catch (error) {
        throw explainOperation(error, { what, phase: 'create', importId: inputs.name });
      }
      try {
        if (Object.keys(forSet).length > 0)
          await run(client, `Set-${inputs.noun}`, { Identity: identity, ...forSet });
        const outs = await outputsFor(inputs, identity, what);
        return { id: outs.identity, outs: { ...passThrough(inputs), ...outs } };
      } catch (error) {
        // The object exists: record it (Pulumi's "failed to initialize"), so the next `up` updates it.
        const failure = explainOperation(error, { what, phase: 'create' });
        failure.id = identity;
        failure.properties = { ...passThrough(inputs), ...inputs, identity };
        failure.reasons = [failure.message];
        throw failure;
      }
    },

    async read(
      id: string,
      props: Raw,
    ): Promise<{ id: string; props?: ObjectOutputs & Raw; inputs?: ObjectInputs }> {
      const connection = resolveConnection(props['connection'], context.env).connection;
      const inputs: ObjectInputs = {
        connection,
        noun: String(props['noun']),
        name: typeof props['name'] === 'string' ? props['name'] : id,
        properties: (props['properties'] as Properties | undefined) ?? {},
        createOnly: (props['createOnly'] as string[] | undefined) ?? [],
        setOnly: (props['setOnly'] as string[] | undefined) ?? [],
      };
      const what = describeObject(inputs.noun, inputs.name);
      try {
        const row = await getRow(inputs, id);
        if (!row) {
          log(`${what} no longer exists in the tenant: it was deleted outside Pulumi.`);
          return { id: '' };
        }
        const properties = readBack(row, inputs.properties, what, log);
        const name = typeof row['Name'] === 'string' ? row['Name'] : inputs.name;
        const current: ObjectInputs = { ...inputs, name, properties };
        const outs: ObjectOutputs = { ...current, identity: identityOf(row, id) };
        return { id: outs.identity, props: { ...passThrough(props), ...outs }, inputs: { ...current } };
      } catch (error) {
        throw explainOperation(error, { what, phase: 'read' });
      }
    },

    async update(
      _id: string,
      olds: ObjectOutputs,
      news: ObjectInputs & Raw,
    ): Promise<{ outs: ObjectOutputs & Raw }> {
      const what = describeObject(news.noun, news.name);
      const { changed } = diffObject(olds, news);
      try {
        if (changed.length > 0)
          await run(context.clientFor(news.connection), `Set-${news.noun}`, {
            Identity: olds.identity,
            ...setParameters(news.properties, changed),
          });
        const outs = await outputsFor(news, olds.identity, what);
        return { outs: { ...passThrough(news), ...outs } };
      } catch (error) {
        throw explainOperation(error, { what, phase: 'update' });
      }
    },

    async delete(id: string, props: ObjectOutputs): Promise<void> {
      const what = describeObject(props.noun, props.name);
      const connection = resolveConnection(props.connection, context.env).connection;
      try {
        await run(context.clientFor(connection), `Remove-${props.noun}`, {
          Identity: props.identity || id,
          Confirm: false,
        });
      } catch (error) {
        if (isReason(error, 'not-found')) {
          log(`${what} was already gone from the tenant.`);
          return;
        }
        throw explainOperation(error, { what, phase: 'delete' });
      }
    },
  };
}

function describeSettings(noun: string, identity: string | undefined): string {
  return identity === undefined ? noun : `${noun} '${identity}'`;
}

export function settingsProvider(context: ProviderContext) {
  const log = (message: string): void => context.log(message);

  async function getRow(inputs: SettingsInputs, keys: readonly string[]) {
    const client = context.clientFor(inputs.connection);
    const parameters = inputs.identity === undefined ? {} : { Identity: inputs.identity };
    const rows = await run(client, `Get-${inputs.noun}`, parameters, ['Identity', ...keys]);
    return rows[0];
  }

  async function converge(inputs: SettingsInputs, recorded: Properties, operation: OperationContext) {
    const changed = changedKeys(inputs.properties, recorded);
    try {
      if (changed.length > 0)
        await run(context.clientFor(inputs.connection), `Set-${inputs.noun}`, {
          ...(inputs.identity !== undefined && { Identity: inputs.identity }),
          ...setParameters(inputs.properties, changed),
        });
      const row = await getRow(inputs, Object.keys(inputs.properties));
      return readBack(row, inputs.properties, operation.what, log);
    } catch (error) {
      throw explainOperation(error, operation);
    }
  }

  function normalise(raw: Raw, env: NodeJS.ProcessEnv): SettingsInputs {
    const identity = raw['identity'];
    return {
      connection: resolveConnection(raw['connection'], env).connection,
      noun: String(raw['noun']),
      ...(typeof identity === 'string' && identity.trim() !== '' && { identity: identity.trim() }),
      properties: (raw['properties'] as Properties | undefined) ?? {},
    };
  }

  return {
    async check(_olds: Raw, news: Raw): Promise<CheckResult<SettingsInputs & Raw>> {
      const connection = checkConnection(news['connection'], context.env);
      const failures = [...connection.failures, ...checkNounAndProperties(news['noun'], news['properties'])];
      const identity = news['identity'];
      if (identity !== undefined && !isUnknown(identity) && typeof identity !== 'string')
        failures.push({ property: 'identity', reason: 'must be a string' });
      const inputs = { ...normalise(news, context.env), connection: connection.inputs };
      return { inputs: { ...passThrough(news), ...inputs }, failures };
    },

    async diff(_id: string, olds: SettingsOutputs, news: SettingsInputs): Promise<Diff> {
      return diffSettings(olds, news);
    },

    async create(inputs: SettingsInputs & Raw): Promise<{ id: string; outs: SettingsOutputs & Raw }> {
      const what = describeSettings(inputs.noun, inputs.identity);
      const keys = Object.keys(inputs.properties);
      let before: Properties;
      try {
        before = pick((await getRow(inputs, keys)) ?? {}, keys);
      } catch (error) {
        throw explainOperation(error, { what, phase: 'create' });
      }
      const properties = await converge(inputs, before, { what, phase: 'create' });
      const outs: SettingsOutputs = { ...inputs, properties, before };
      return { id: settingsId(inputs.noun, inputs.identity), outs: { ...passThrough(inputs), ...outs } };
    },

    async read(
      id: string,
      props: Raw,
    ): Promise<{ id: string; props?: SettingsOutputs & Raw; inputs?: SettingsInputs }> {
      const inputs = normalise(props, context.env);
      const what = describeSettings(inputs.noun, inputs.identity);
      try {
        const row = await getRow(inputs, Object.keys(inputs.properties));
        const properties = readBack(row, inputs.properties, what, log);
        const before = (props['before'] as Properties | undefined) ?? properties;
        const current = { ...inputs, properties };
        return { id, props: { ...passThrough(props), ...current, before }, inputs: current };
      } catch (error) {
        if (isReason(error, 'not-found')) {
          log(`${what} no longer exists in the tenant: it was deleted outside Pulumi.`);
          return { id: '' };
        }
        throw explainOperation(error, { what, phase: 'read' });
      }
    },

    async update(
      _id: string,
      olds: SettingsOutputs,
      news: SettingsInputs & Raw,
    ): Promise<{ outs: SettingsOutputs & Raw }> {
      const what = describeSettings(news.noun, news.identity);
      const before = { ...olds.before };
      const added = Object.keys(news.properties).filter((k) => !(k in before));
      if (added.length > 0) {
        try {
          Object.assign(before, pick((await getRow(news, added)) ?? {}, added));
        } catch (error) {
          throw explainOperation(error, { what, phase: 'update' });
        }
      }
      const properties = await converge(news, olds.properties, { what, phase: 'update' });
      const outs: SettingsOutputs = { ...news, properties, before };
      return { outs: { ...passThrough(news), ...outs } };
    },

    async delete(_id: string, props: SettingsOutputs): Promise<void> {
      const what = describeSettings(props.noun, props.identity);
      log(
        `${what}: removed from the Pulumi state only; the tenant keeps its current values (${Object.keys(props.properties).join(', ') || 'none declared'}). Values before Pulumi managed them: ${JSON.stringify(props.before)}.`,
      );
    },
  };
}

export type ObjectProvider = ReturnType<typeof objectProvider>;
export type SettingsProvider = ReturnType<typeof settingsProvider>;
