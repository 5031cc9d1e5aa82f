/**
 * Provider methods for settings managed with Get-/Set-<Noun> (OrganizationConfig, TransportConfig, …). There is
 * nothing to create or remove: create sets the declared values, delete leaves the tenant as it is.
 */
import { explainOperation, isReason, type OperationContext } from './errors.js';
import {
  changedKeys,
  diffSettings,
  isUnknown,
  pick,
  setParameters,
  settingsId,
  type Diff,
  type Properties,
  type SettingsInputs,
  type SettingsOutputs,
} from './model.js';
import {
  checkConnection,
  checkManaged,
  diffKnown,
  passThrough,
  propertiesOf,
  readBack,
  run,
  type CheckResult,
  type ProviderContext,
  type Raw,
  unknowns,
} from './provider.js';

const describe = (noun: string, identity: string | undefined): string =>
  identity === undefined ? noun : `${noun} '${identity}'`;

function inputsFrom(raw: Raw, connection: SettingsInputs['connection']): SettingsInputs {
  const identity = raw['identity'];
  return {
    connection,
    noun: String(raw['noun']),
    ...(typeof identity === 'string' && identity.trim() !== '' && { identity: identity.trim() }),
    properties: propertiesOf(raw['properties']),
  };
}

export class SettingsProvider {
  constructor(private readonly context: ProviderContext) {}

  private log(message: string): void {
    this.context.log(message);
  }

  private async getRow(inputs: SettingsInputs, keys: readonly string[]) {
    const client = this.context.clientFor(inputs.connection);
    const parameters = inputs.identity === undefined ? {} : { Identity: inputs.identity };
    return (await run(client, `Get-${inputs.noun}`, parameters, ['Identity', ...keys]))[0];
  }

  /** Set-<Noun> with the declared values that differ from `recorded`, then the values as Exchange returns them. */
  private async converge(inputs: SettingsInputs, recorded: Properties, operation: OperationContext) {
    const changed = changedKeys(inputs.properties, recorded);
    try {
      if (changed.length > 0)
        await run(this.context.clientFor(inputs.connection), `Set-${inputs.noun}`, {
          ...(inputs.identity !== undefined && { Identity: inputs.identity }),
          ...setParameters(inputs.properties, changed),
        });
      const row = await this.getRow(inputs, Object.keys(inputs.properties));
      return readBack(row, inputs.properties, operation.what, (m) => this.log(m));
    } catch (error) {
      throw explainOperation(error, operation);
    }
  }

  private async valuesOf(inputs: SettingsInputs, keys: string[], operation: OperationContext) {
    try {
      return pick((await this.getRow(inputs, keys)) ?? {}, keys);
    } catch (error) {
      throw explainOperation(error, operation);
    }
  }

  async check(_olds: Raw, news: Raw): Promise<CheckResult<SettingsInputs & Raw>> {
    const { connection, failures } = checkManaged(news, this.context.env);
    const identity = news['identity'];
    if (identity !== undefined && !isUnknown(identity) && typeof identity !== 'string')
      failures.push({ property: 'identity', reason: 'must be a string' });
    const inputs = { ...inputsFrom(news, connection), ...unknowns(news) };
    return { inputs: { ...passThrough(news), ...inputs }, failures };
  }

  async diff(_id: string, olds: SettingsOutputs, news: SettingsInputs): Promise<Diff> {
    return diffKnown(olds, news, diffSettings);
  }

  async create(inputs: SettingsInputs & Raw): Promise<{ id: string; outs: SettingsOutputs & Raw }> {
    const operation: OperationContext = { what: describe(inputs.noun, inputs.identity), phase: 'create' };
    const before = await this.valuesOf(inputs, Object.keys(inputs.properties), operation);
    const properties = await this.converge(inputs, before, operation);
    const outs: SettingsOutputs = { ...inputs, properties, before };
    return { id: settingsId(inputs.noun, inputs.identity), outs: { ...passThrough(inputs), ...outs } };
  }

  async read(
    id: string,
    props: Raw,
  ): Promise<{ id: string; props?: SettingsOutputs & Raw; inputs?: SettingsInputs }> {
    const inputs = inputsFrom(props, checkConnection(props['connection'], this.context.env).inputs);
    const what = describe(inputs.noun, inputs.identity);
    try {
      const row = await this.getRow(inputs, Object.keys(inputs.properties));
      const properties = readBack(row, inputs.properties, what, (m) => this.log(m));
      const before = (props['before'] as Properties | undefined) ?? properties;
      const current = { ...inputs, properties };
      return { id, props: { ...passThrough(props), ...current, before }, inputs: current };
    } catch (error) {
      if (isReason(error, 'not-found')) {
        this.log(`${what} no longer exists in the tenant: it was deleted outside Pulumi.`);
        return { id: '' };
      }
      throw explainOperation(error, { what, phase: 'read' });
    }
  }

  async update(
    _id: string,
    olds: SettingsOutputs,
    news: SettingsInputs & Raw,
  ): Promise<{ outs: SettingsOutputs & Raw }> {
    const operation: OperationContext = { what: describe(news.noun, news.identity), phase: 'update' };
    // Values before Pulumi, for properties declared since the first up.
    const added = Object.keys(news.properties).filter((k) => !(k in olds.before));
    const before = {
      ...olds.before,
      ...(added.length > 0 ? await this.valuesOf(news, added, operation) : {}),
    };
    const properties = await this.converge(news, olds.properties, operation);
    const outs: SettingsOutputs = { ...news, properties, before };
    return { outs: { ...passThrough(news), ...outs } };
  }

  async delete(_id: string, props: SettingsOutputs): Promise<void> {
    const declared = Object.keys(props.properties).join(', ') || 'none declared';
    this.log(
      `${describe(props.noun, props.identity)}: removed from the Pulumi state only; the tenant keeps its current values (${declared}). Values before Pulumi managed them: ${JSON.stringify(props.before)}.`,
    );
  }
}
