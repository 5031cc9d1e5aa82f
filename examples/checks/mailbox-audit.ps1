# Read-only compliance check: mailboxes with auditing turned off.
$off = Get-EXOMailbox -ResultSize 500 -Properties AuditEnabled | Where-Object { -not $_.AuditEnabled }
Write-Output "Mailboxes with auditing off: $($off.Count)"
$off | Select-Object -First 20 DisplayName, PrimarySmtpAddress | Format-Table -AutoSize | Out-String -Width 200
