export {
  runWorkers,
  workerEnvironment,
  interpreterFor,
  redact,
  TOKEN_MARGIN_MS,
  WITHHELD_VARIABLES,
} from './runner.js';
export { expandScripts, shardOf, shardMatrix, sortScripts, posixRelative, type Shard } from './plan.js';
export { powershellWrapper, psQuote, type WrapperOptions } from './wrapper.js';
export { findErrorLocations, type ErrorLocation } from './annotations.js';
export type { Logger, RunWorkersOptions, WorkerRow, WorkerRun, WorkerSpec, WorkerResult } from './types.js';
export { parseCount, parseMinutes, parseShard, parseModuleVersion } from './settings.js';
