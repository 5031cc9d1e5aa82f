/**
 * Provider methods for an Exchange object managed with New-/Get-/Set-/Remove-<Noun> (ExchangeObject and the typed
 * families built on it).
 */
import { explainOperation, isReason } from './errors.js';
import {
  checkNameList,
  checkState,
  diffObject,
  identityOf,
  isUnknown,
  setParameters,
  splitForCreate,
  splitForUpdate,
  type Diff,
  type ObjectInputs,
  type ObjectOutputs,
} from './model.js';
import {
  checkConnection,
  checkManaged,
  diffKnown,
  listOf,
  passThrough,
  propertiesOf,
  readBack,
  run,
  type CheckResult,
  type ProviderContext,
  type Raw,
  unknowns,
} from './provider.js';

const describe = (noun: string, name: string): string => `${noun} '${name}'`;

function selectFor(inputs: ObjectInputs): string[] {
  return [...new Set(['Identity', 'Guid', 'Name', ...Object.keys(inputs.properties)])];
}

function inputsFrom(raw: Raw, connection: ObjectInputs['connection'], fallbackName = ''): ObjectInputs {
  const name = raw['name'];
  return {
    connection,
    noun: String(raw['noun']),
    name: typeof name === 'string' ? name.trim() : fallbackName,
    properties: propertiesOf(raw['properties']),
    createOnly: listOf(raw['createOnly']),
    setOnly: listOf(raw['setOnly']),
    enableCmdlets: raw['enableCmdlets'] === true,
  };
}

export class ObjectProvider {
  constructor(private readonly context: ProviderContext) {}

  private log(message: string): void {
    this.context.log(message);
  }

  private async getRow(inputs: ObjectInputs, identity: string): Promise<Record<string, unknown> | undefined> {
    const client = this.context.clientFor(inputs.connection);
    try {
      return (await run(client, `Get-${inputs.noun}`, { Identity: identity }, selectFor(inputs)))[0];
    } catch (error) {
      if (isReason(error, 'not-found')) return undefined;
      throw error;
    }
  }

  private async outputsFor(inputs: ObjectInputs, identity: string): Promise<ObjectOutputs> {
    const row = await this.getRow(inputs, identity);
    const what = describe(inputs.noun, inputs.name);
    return {
      ...inputs,
      identity: identityOf(row, identity),
      properties: readBack(row, inputs.properties, what, (m) => this.log(m)),
    };
  }

  async check(_olds: Raw, news: Raw): Promise<CheckResult<ObjectInputs & Raw>> {
    const { connection, failures } = checkManaged(news, this.context.env);
    failures.push(
      ...checkNameList(isUnknown(news['createOnly']) ? undefined : news['createOnly'], 'createOnly'),
      ...checkNameList(isUnknown(news['setOnly']) ? undefined : news['setOnly'], 'setOnly'),
    );
    const name = news['name'];
    if (!isUnknown(name) && (typeof name !== 'string' || name.trim() === '' || name.length > 64))
      failures.push({ property: 'name', reason: 'must be a non-empty name of at most 64 characters' });
    // Values Pulumi does not know yet (preview) stay as they are, for diff to see them as unknown.
    const enableCmdlets = news['enableCmdlets'];
    if (enableCmdlets !== undefined && typeof enableCmdlets !== 'boolean' && !isUnknown(enableCmdlets))
      failures.push({ property: 'enableCmdlets', reason: 'must be true or false' });
    const inputs = { ...inputsFrom(news, connection), ...unknowns(news) };
    failures.push(...(isUnknown(inputs.properties) ? [] : checkState(inputs)));
    return { inputs: { ...passThrough(news), ...inputs }, failures };
  }

  async diff(_id: string, olds: ObjectOutputs, news: ObjectInputs): Promise<Diff> {
    return diffKnown(olds, news, diffObject);
  }

  async create(inputs: ObjectInputs & Raw): Promise<{ id: string; outs: ObjectOutputs & Raw }> {
    const what = describe(inputs.noun, inputs.name);
    const client = this.context.clientFor(inputs.connection);
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
      const outs = await this.outputsFor(inputs, identity);
      return { id: outs.identity, outs: { ...passThrough(inputs), ...outs } };
    } catch (error) {
      // The object exists: record it (Pulumi's "failed to initialize"), so the next `up` updates it.
      const failure = explainOperation(error, { what, phase: 'create' });
      failure.id = identity;
      failure.properties = { ...passThrough(inputs), ...inputs, identity };
      failure.reasons = [failure.message];
      throw failure;
    }
  }

  async read(
    id: string,
    props: Raw,
  ): Promise<{ id: string; props?: ObjectOutputs & Raw; inputs?: ObjectInputs }> {
    const connection = checkConnection(props['connection'], this.context.env).inputs;
    const inputs = inputsFrom(props, connection, id);
    const what = describe(inputs.noun, inputs.name);
    try {
      const row = await this.getRow(inputs, id);
      if (!row) {
        this.log(`${what} no longer exists in the tenant: it was deleted outside Pulumi.`);
        return { id: '' };
      }
      const properties = readBack(row, inputs.properties, what, (m) => this.log(m));
      const name = typeof row['Name'] === 'string' ? row['Name'] : inputs.name;
      const current: ObjectInputs = { ...inputs, name, properties };
      const outs: ObjectOutputs = { ...current, identity: identityOf(row, id) };
      // The id stays what Pulumi asked for (an import's name, say); later calls use the GUID in `identity`.
      return { id, props: { ...passThrough(props), ...outs }, inputs: current };
    } catch (error) {
      throw explainOperation(error, { what, phase: 'read' });
    }
  }

  async update(
    _id: string,
    olds: ObjectOutputs,
    news: ObjectInputs & Raw,
  ): Promise<{ outs: ObjectOutputs & Raw }> {
    const what = describe(news.noun, news.name);
    const { setKeys, toggle } = splitForUpdate(news, diffObject(olds, news).changed);
    const client = this.context.clientFor(news.connection);
    try {
      if (setKeys.length > 0)
        await run(client, `Set-${news.noun}`, {
          Identity: olds.identity,
          ...setParameters(news.properties, setKeys),
        });
      if (toggle) await run(client, `${toggle}-${news.noun}`, { Identity: olds.identity, Confirm: false });
      const outs = await this.outputsFor(news, olds.identity);
      return { outs: { ...passThrough(news), ...outs } };
    } catch (error) {
      throw explainOperation(error, { what, phase: 'update' });
    }
  }

  async delete(id: string, props: ObjectOutputs): Promise<void> {
    const what = describe(props.noun, props.name);
    const connection = checkConnection(props.connection, this.context.env).inputs;
    try {
      await run(this.context.clientFor(connection), `Remove-${props.noun}`, {
        Identity: props.identity || id,
        Confirm: false,
      });
    } catch (error) {
      if (isReason(error, 'not-found')) {
        this.log(`${what} was already gone from the tenant.`);
        return;
      }
      throw explainOperation(error, { what, phase: 'delete' });
    }
  }
}
