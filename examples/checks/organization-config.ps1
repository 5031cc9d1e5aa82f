# Read-only drift check: the organization's audit log setting.
$config = Get-AdminAuditLogConfig
if (-not $config.UnifiedAuditLogIngestionEnabled) {
  Write-Error 'Unified audit log ingestion is disabled'
}
Write-Output "Unified audit log ingestion: $($config.UnifiedAuditLogIngestionEnabled)"
