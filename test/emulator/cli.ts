/** Starts the emulator and prints one JSON line describing it; runs until SIGINT/SIGTERM. */
import { startEmulator } from './index.ts';

const emulator = await startEmulator();
console.log(
  JSON.stringify({
    authorityHost: emulator.authorityHost,
    tenantId: emulator.tenantId,
    domain: emulator.domain,
    clientId: emulator.clientId,
    accessTokenPublicKeyFile: emulator.accessTokenPublicKeyFile,
    env: emulator.env,
    exchange: {
      url: emulator.exchange.url,
      complianceUrl: emulator.exchange.complianceUrl,
      resources: emulator.exchange.resources,
      invokeUrl: emulator.exchange.invokeUrl(),
    },
  }),
);
const stop = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
