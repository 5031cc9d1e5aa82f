export { interpreterFor, RUNNABLE_EXTENSIONS } from './interpreters.js';
export { runWorkers, workerEnvironment, redact, TOKEN_MARGIN_MS, WITHHELD_VARIABLES } from './runner.js';
export type { ExecutorFactory, WorkerExecutor, WorkerJob, WorkerOutcome } from './executor.js';
export {
  expandScripts,
  planWorkers,
  shardOf,
  shardPlan,
  sortScripts,
  posixRelative,
  type Shard,
  type WorkerPlan,
  type WorkerPlanOptions,
} from './plan.js';
export { powershellWrapper, psQuote, type WrapperOptions } from './wrapper.js';
export { findErrorLocations, type ErrorLocation } from './annotations.js';
export type { Logger, RunWorkersOptions, WorkerRow, WorkerRun, WorkerSpec, WorkerResult } from './types.js';
export {
  parseCount,
  parseMaxParallel,
  parseMinutes,
  parseShard,
  parseModuleVersion,
  defaultText,
  WORKER_SETTINGS,
  type WorkerSettingKey,
} from './settings.js';
