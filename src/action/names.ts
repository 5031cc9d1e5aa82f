import { input, type SettingName } from '../core/names.js';
import type { SettingNames } from '../core/settings.js';

/** Input and output names exactly as action.yml spells them (a test keeps the two in step). */
export enum Input {
  TenantId = 'tenant-id',
  ClientId = 'client-id',
  Organization = 'organization',
  Environment = 'environment',
  Resources = 'resources',
  Audience = 'audience',
  AuthorityHost = 'authority-host',
  ExportEnv = 'export-env',
  Scripts = 'scripts',
  Run = 'run',
  MaxParallel = 'max-parallel',
  TimeoutMinutes = 'timeout-minutes',
  FailFast = 'fail-fast',
  ReuseSessions = 'reuse-sessions',
  Shard = 'shard',
  WorkingDirectory = 'working-directory',
  ModuleVersion = 'module-version',
}

export enum Output {
  AccessToken = 'access-token',
  ComplianceAccessToken = 'compliance-access-token',
  GraphAccessToken = 'graph-access-token',
  ExpiresOn = 'expires-on',
  TenantId = 'tenant-id',
  Organization = 'organization',
  Environment = 'environment',
  Results = 'results',
  Matrix = 'matrix',
}

/** An input as a setting name for messages ("Input 'tenant-id'"). */
export const named = (name: Input): SettingName => input(name);

/** The shared settings by the names the action's users write in `with:`. */
export const ACTION_SETTING_NAMES: SettingNames = {
  tenantId: named(Input.TenantId),
  clientId: named(Input.ClientId),
  environment: named(Input.Environment),
  organization: named(Input.Organization),
  resources: named(Input.Resources),
  audience: named(Input.Audience),
  authorityHost: named(Input.AuthorityHost),
};
