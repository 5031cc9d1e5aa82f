/**
 * A stand-in for the parts of the Pulumi engine these tests need (there is no Pulumi CLI or engine here):
 *  - `declare` runs a program under Pulumi's own runtime mocks and returns each resource as the engine would
 *    receive it: type token, name and resolved inputs, including `__provider`, the provider serialised by
 *    Pulumi's closure serializer;
 *  - `loadProvider` turns that text back into a provider the way Pulumi's dynamic-provider host does
 *    (require-from-string: the text is a CommonJS module whose `handler()` returns the provider), with
 *    `require('exo-login/pulumi')` resolving to this checkout's source;
 *  - `up` plays the engine's step logic for one deployment: check, then create / diff → update or replace /
 *    delete for resources that left the program, keeping state between runs.
 */
import { createRequire } from 'node:module';
import * as pulumi from '@pulumi/pulumi';
import type { dynamic } from '@pulumi/pulumi';
import * as entry from '../../src/pulumi/index.js';

export interface Declared {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The `import` resource option. */
  importId?: string;
}

/** Runs `program` under Pulumi's runtime mocks and returns the resources it registered, inputs resolved. */
export async function declare(program: () => pulumi.CustomResource[]): Promise<Declared[]> {
  const declared: Declared[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        declared.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          ...(args.id ? { importId: args.id } : {}),
        });
        return { id: `${args.name}-id`, state: args.inputs as Record<string, unknown> };
      },
      call: (args) => args.inputs as Record<string, unknown>,
    },
    'exo-test',
    'dev',
    false,
  );
  const resources = program();
  await Promise.all(resources.map((r) => new Promise<void>((resolve) => r.id.apply(() => resolve()))));
  return declared;
}

const nodeRequire = createRequire(import.meta.url);

/** What Pulumi's dynamic-provider host does with `__provider`: evaluate it as a module and call handler(). */
export function loadProvider(text: string): dynamic.ResourceProvider {
  const module = { exports: {} as { handler?: () => dynamic.ResourceProvider } };
  const requireShim = (specifier: string): unknown =>
    specifier === 'exo-login/pulumi' ? entry : nodeRequire(specifier);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- exactly what require-from-string does
  const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', text) as (
    ...args: unknown[]
  ) => void;
  evaluate(module.exports, requireShim, module, '', '');
  if (typeof module.exports.handler !== 'function') throw new Error('serialised provider has no handler');
  return module.exports.handler();
}

/** The provider calls the engine makes, by URN; the host finds the provider in the properties' __provider. */
export interface ProviderCalls {
  check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: dynamic.CheckFailure[] }>;
  diff(urn: string, id: string, olds: Props, news: Props): Promise<dynamic.DiffResult>;
  create(urn: string, inputs: Props): Promise<{ id: string; outs: Props }>;
  read(
    urn: string,
    id: string,
    props: Props,
  ): Promise<{ id: string; props: Props; inputs?: Props | undefined }>;
  update(urn: string, id: string, olds: Props, news: Props): Promise<{ outs: Props }>;
  delete(urn: string, id: string, props: Props): Promise<void>;
}
type Props = Record<string, unknown>;

function providerOf(props: Props): dynamic.ResourceProvider {
  const text = props['__provider'];
  if (typeof text !== 'string') throw new Error('resource has no __provider');
  return loadProvider(text);
}

/** The host's logic in this process: deserialise from __provider, call, carry __provider into the results. */
export const inProcess: ProviderCalls = {
  async check(_urn, olds, news) {
    const result = (await providerOf(news).check?.(olds, news)) ?? { inputs: news };
    return {
      inputs: { ...(result.inputs as Props), __provider: news['__provider'] },
      failures: [...(result.failures ?? [])],
    };
  },
  async diff(_urn, id, olds, news) {
    return (await providerOf(news).diff?.(id, olds, news)) ?? {};
  },
  async create(_urn, inputs) {
    const { id, outs } = (await providerOf(inputs).create(inputs)) as { id: string; outs?: unknown };
    return { id, outs: { ...(outs as Props), __provider: inputs['__provider'] } };
  },
  async read(_urn, id, props) {
    const result = (await providerOf(props).read?.(id, props)) ?? { id, props };
    return {
      id: result.id ?? '',
      props: { ...(result.props as Props), __provider: props['__provider'] },
      inputs: result.inputs as Props | undefined,
    };
  },
  async update(_urn, id, olds, news) {
    const { outs } = ((await providerOf(news).update?.(id, olds, news)) ?? {}) as { outs?: unknown };
    return { outs: { ...(outs as Props), __provider: news['__provider'] } };
  },
  async delete(_urn, id, props) {
    await providerOf(props).delete?.(id, props);
  },
};

export interface StateEntry {
  urn: string;
  id: string;
  inputs: Props;
  outputs: Props;
}
export type State = Map<string, StateEntry>;

export type Step = `${'create' | 'import' | 'same' | 'update' | 'replace' | 'delete'} ${string}`;

const urnOf = (r: Declared): string => `urn:pulumi:dev::exo-test::${r.type}::${r.name}`;

/** One `pulumi up` over `declared`, starting from `state` (mutated to the new state). Returns the steps taken. */
export async function up(declared: readonly Declared[], state: State, calls: ProviderCalls): Promise<Step[]> {
  const steps: Step[] = [];
  for (const resource of declared) {
    const urn = urnOf(resource);
    const old = state.get(urn);
    const { inputs, failures } = await calls.check(urn, old?.inputs ?? {}, resource.inputs);
    if (failures.length > 0) throw new Error(`check failed: ${JSON.stringify(failures)}`);
    if (!old && resource.importId !== undefined) {
      // The engine's import: read by the given id, then the program's inputs must diff clean against it.
      const read = await calls.read(urn, resource.importId, inputs);
      if (!read.id) throw new Error(`${resource.name}: the object to import does not exist`);
      const diff = await calls.diff(urn, read.id, read.props, inputs);
      if (diff.changes !== false)
        throw new Error(`${resource.name}: inputs to import do not match the existing resource`);
      state.set(urn, { urn, id: read.id, inputs, outputs: read.props });
      steps.push(`import ${resource.name}`);
      continue;
    }
    if (!old) {
      const { id, outs } = await calls.create(urn, inputs);
      state.set(urn, { urn, id, inputs, outputs: outs });
      steps.push(`create ${resource.name}`);
      continue;
    }
    const diff = await calls.diff(urn, old.id, old.outputs, inputs);
    if (diff.replaces?.length) {
      // The engine creates the replacement first unless the provider asks to delete first.
      if (diff.deleteBeforeReplace) await calls.delete(urn, old.id, old.outputs);
      const { id, outs } = await calls.create(urn, inputs);
      if (!diff.deleteBeforeReplace) await calls.delete(urn, old.id, old.outputs);
      state.set(urn, { urn, id, inputs, outputs: outs });
      steps.push(`replace ${resource.name}`);
    } else if (diff.changes !== false) {
      const { outs } = await calls.update(urn, old.id, old.outputs, inputs);
      state.set(urn, { ...old, inputs, outputs: outs });
      steps.push(`update ${resource.name}`);
    } else {
      steps.push(`same ${resource.name}`);
    }
  }
  const kept = new Set(declared.map(urnOf));
  for (const [urn, entry] of [...state]) {
    if (kept.has(urn)) continue;
    // The engine deletes with the provider recorded in the state, not the program's.
    await calls.delete(urn, entry.id, entry.outputs);
    state.delete(urn);
    steps.push(`delete ${urn.split('::').pop() ?? urn}`);
  }
  return steps;
}

/** `pulumi refresh`: read every resource; an empty id drops it from the state. */
export async function refresh(state: State, calls: ProviderCalls): Promise<Step[]> {
  const steps: Step[] = [];
  for (const [urn, entry] of [...state]) {
    const name = urn.split('::').pop() ?? urn;
    const result = await calls.read(urn, entry.id, entry.outputs);
    if (!result.id) {
      state.delete(urn);
      steps.push(`delete ${name}`);
      continue;
    }
    const changed = JSON.stringify(result.props) !== JSON.stringify(entry.outputs);
    state.set(urn, { ...entry, id: result.id, outputs: result.props, inputs: result.inputs ?? entry.inputs });
    steps.push(`${changed ? 'update' : 'same'} ${name}`);
  }
  return steps;
}
