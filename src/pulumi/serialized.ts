/**
 * The provider objects handed to `pulumi.dynamic.Resource`. Pulumi serialises them with its closure serializer
 * (`runtime.serializeFunction(() => provider)`) into every resource's `__provider` input, i.e. into the state, and
 * the dynamic-provider host loads that text with require-from-string. So these objects must capture nothing: no
 * session, no token, no client, no imported module (a captured ES module would be serialised by value, with
 * everything it references). Each method only `require`s this package when it runs, inside the host, where
 * `require` resolves from the Pulumi program's directory (the host's working directory) and Node loads our ES
 * module through require(esm) (Node 20.19+, 22.12+). The implementation lives in provider.ts.
 */
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- the whole point: a require() at run time, untyped */
import type * as pulumi from '@pulumi/pulumi';

export const serializedObjectProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => require('exo-login/pulumi').dynamicProvider('object').check(olds, news),
  diff: (id, olds, news) => require('exo-login/pulumi').dynamicProvider('object').diff(id, olds, news),
  create: (inputs) => require('exo-login/pulumi').dynamicProvider('object').create(inputs),
  read: (id, props) => require('exo-login/pulumi').dynamicProvider('object').read(id, props),
  update: (id, olds, news) => require('exo-login/pulumi').dynamicProvider('object').update(id, olds, news),
  delete: (id, props) => require('exo-login/pulumi').dynamicProvider('object').delete(id, props),
};

export const serializedSettingsProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => require('exo-login/pulumi').dynamicProvider('settings').check(olds, news),
  diff: (id, olds, news) => require('exo-login/pulumi').dynamicProvider('settings').diff(id, olds, news),
  create: (inputs) => require('exo-login/pulumi').dynamicProvider('settings').create(inputs),
  read: (id, props) => require('exo-login/pulumi').dynamicProvider('settings').read(id, props),
  update: (id, olds, news) => require('exo-login/pulumi').dynamicProvider('settings').update(id, olds, news),
  delete: (id, props) => require('exo-login/pulumi').dynamicProvider('settings').delete(id, props),
};
