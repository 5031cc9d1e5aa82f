/**
 * Messages for the person running `pulumi up`, sent as the engine's own diagnostics. A provider plugin's stderr is
 * logged at debug level since Pulumi 3.143 (hidden without -v), so a provider reports what users must see through
 * the engine's Log RPC, at the address the engine passes its plugins as their first argument. Pulumi's
 * dynamic-provider host gets that address too; this reuses the gRPC client and messages of the program's own
 * @pulumi/pulumi (a peer dependency), loaded only inside that host.
 */
import { createRequire } from 'node:module';

export type EngineLog = (message: string) => Promise<void>;

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-explicit-any -- Pulumi's generated gRPC modules are untyped */
interface Engine {
  grpc: any;
  rpc: any;
  proto: any;
}

function loadEngineModules(): Engine {
  const local = createRequire(import.meta.url);
  const fromPulumi = createRequire(local.resolve('@pulumi/pulumi/package.json'));
  return {
    grpc: fromPulumi('@grpc/grpc-js'),
    rpc: fromPulumi('./proto/engine_grpc_pb'),
    proto: fromPulumi('./proto/engine_pb'),
  };
}

/** A WARNING diagnostic through the engine at `address` (`host:port`), or undefined when there is none. */
export function engineLog(address: string | undefined): EngineLog | undefined {
  if (address === undefined || !/^[\w.[\]:-]+:\d+$/.test(address)) return undefined;
  let engine: Engine;
  try {
    engine = loadEngineModules();
  } catch {
    return undefined;
  }
  const client = new engine.rpc.EngineClient(address, engine.grpc.credentials.createInsecure());
  return (message) =>
    new Promise((resolve) => {
      const request = new engine.proto.LogRequest();
      request.setSeverity(engine.proto.LogSeverity.WARNING);
      request.setMessage(message);
      // A diagnostic that cannot be delivered must not fail the operation that wanted to say something.
      client.log(request, () => resolve());
    });
}
