/**
 * Pulumi's real dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`, what the engine starts as the
 * `pulumi-nodejs` provider plugin), driven over gRPC the way the engine drives it. It runs in its own process with
 * a project directory as working directory, where `node_modules/exo-login` is this checkout's package as npm
 * would install it (package.json and a lib/ built from src/ by `buildPackage`), so the serialised provider's
 * `require('exo-login/pulumi')` resolves as in a user's project: through the package's exports and require(esm).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ProviderCalls } from './pulumi.ts';

const root = resolve(import.meta.dirname, '../..');
const pulumiRequire = createRequire(join(root, 'node_modules/@pulumi/pulumi/package.json'));
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any -- generated protobuf/gRPC modules are untyped here */
const grpc: any = pulumiRequire('@grpc/grpc-js');
const provproto: any = pulumiRequire('./proto/provider_pb');
const provrpc: any = pulumiRequire('./proto/provider_grpc_pb');
const engrpc: any = pulumiRequire('./proto/engine_grpc_pb');
const emptyproto: any = pulumiRequire('google-protobuf/google/protobuf/empty_pb');
const structproto: any = pulumiRequire('google-protobuf/google/protobuf/struct_pb');

type Props = Record<string, unknown>;

export interface DynamicProviderHost extends ProviderCalls {
  /** Every line the host wrote on stderr (Pulumi logs a plugin's stderr at debug level: hidden without -v). */
  readonly stderr: string[];
  /** Diagnostics the provider sent the engine's Log RPC (what `pulumi up` shows), as `SEVERITY message`. */
  readonly engineLog: string[];
  close(): Promise<void>;
}

/**
 * exo-login as installed: package.json, lib/ compiled from this checkout's src/ (outside the checkout, so the
 * repository's own lib/ is left alone) and its dependencies. Returns the package directory.
 */
export async function buildPackage(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-pulumi-package-'));
  await copyFile(join(root, 'package.json'), join(dir, 'package.json'));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.lib.json', '--outDir', join(dir, 'lib')], {
    cwd: root,
  });
  return dir;
}

/** A project directory whose node_modules holds exo-login (`pkg`) and @pulumi/pulumi. */
async function projectDir(pkg: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-pulumi-project-'));
  await mkdir(join(dir, 'node_modules', '@pulumi'), { recursive: true });
  await symlink(pkg, join(dir, 'node_modules', 'exo-login'), 'dir');
  await symlink(join(root, 'node_modules/@pulumi/pulumi'), join(dir, 'node_modules/@pulumi/pulumi'), 'dir');
  return dir;
}

function call<T>(client: any, method: string, request: unknown): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    client[method](request, (error: Error | null, response: T) =>
      error ? reject(error) : resolvePromise(response),
    );
  });
}

const struct = (value: Props): unknown => structproto.Struct.fromJavaScript(value);

const SEVERITIES = ['DEBUG', 'INFO', 'WARNING', 'ERROR'];

/** The engine's side of the Log RPC, the one engine service a provider calls; the address goes on the host's argv. */
async function fakeEngine(engineLog: string[]): Promise<{ address: string; server: any }> {
  const server = new grpc.Server();
  server.addService(engrpc.EngineService, {
    log(call: any, callback: any) {
      engineLog.push(`${SEVERITIES[call.request.getSeverity()] ?? '?'} ${call.request.getMessage()}`);
      callback(null, new emptyproto.Empty());
    },
  });
  const port = await new Promise<number>((resolvePort, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createInsecure(),
      (error: Error | null, p: number) => (error ? reject(error) : resolvePort(p)),
    ),
  );
  return { address: `127.0.0.1:${port}`, server };
}

/** The engine's provider calls, as gRPC requests to the host at `client`. */
function grpcCalls(client: any): ProviderCalls {
  return {
    async check(urn, olds, news) {
      const req = new provproto.CheckRequest();
      req.setUrn(urn);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res: any = await call(client, 'check', req);
      const failures = res
        .getFailuresList()
        .map((f: any) => ({ property: f.getProperty() as string, reason: f.getReason() as string }));
      return { inputs: res.getInputs().toJavaScript() as Props, failures };
    },
    async diff(urn, id, olds, news) {
      const req = new provproto.DiffRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res: any = await call(client, 'diff', req);
      const changes = res.getChanges();
      return {
        ...(changes !== 0 && { changes: changes === 2 }),
        replaces: res.getReplacesList() as string[],
        deleteBeforeReplace: res.getDeletebeforereplace() as boolean,
      };
    },
    async create(urn, inputs) {
      const req = new provproto.CreateRequest();
      req.setUrn(urn);
      req.setProperties(struct(inputs));
      const res: any = await call(client, 'create', req);
      return { id: res.getId() as string, outs: res.getProperties().toJavaScript() as Props };
    },
    async read(urn, id, props) {
      const req = new provproto.ReadRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setProperties(struct(props));
      const res: any = await call(client, 'read', req);
      return {
        id: res.getId() as string,
        props: (res.getProperties()?.toJavaScript() ?? {}) as Props,
        inputs: res.getInputs()?.toJavaScript() as Props | undefined,
      };
    },
    async update(urn, id, olds, news) {
      const req = new provproto.UpdateRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res: any = await call(client, 'update', req);
      return { outs: res.getProperties().toJavaScript() as Props };
    },
    async delete(urn, id, props) {
      const req = new provproto.DeleteRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setProperties(struct(props));
      await call(client, 'delete', req);
    },
  };
}

export async function startDynamicProviderHost(
  pkg: string,
  env: NodeJS.ProcessEnv,
): Promise<DynamicProviderHost> {
  const cwd = await projectDir(pkg);
  const engineLog: string[] = [];
  const engine = await fakeEngine(engineLog);
  const script = join(root, 'node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js');
  const child: ChildProcess = spawn(process.execPath, [script, engine.address], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const port = await new Promise<string>((resolvePort, reject) => {
    if (!child.stdout) return reject(new Error('no stdout'));
    createInterface({ input: child.stdout }).once('line', resolvePort);
    child.once('exit', (code) => reject(new Error(`provider host exited ${code}: ${stderr.join('\n')}`)));
  });
  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

  return {
    stderr,
    engineLog,
    ...grpcCalls(client),
    async close() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      engine.server.forceShutdown();
      await rm(cwd, { recursive: true, force: true });
    },
  };
}
