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
