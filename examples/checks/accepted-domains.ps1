# Read-only inventory: accepted domains and their type.
Get-AcceptedDomain | Sort-Object DomainName | Format-Table DomainName, DomainType, Default -AutoSize | Out-String -Width 200
