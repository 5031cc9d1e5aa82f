import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.ts';

/** One emulator per test file, reset (log, faults, configuration) before each test. */
export function useEmulator(): () => Emulator {
  let emulator: Emulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(() => {
    emulator?.reset();
  });
  return () => {
    if (!emulator) throw new Error('the emulator is not running');
    return emulator;
  };
}
