# Stand-in ExchangeOnlineManagement for tests: one implementation for every version, in ../../../standin-exo.ps1.
. (Join-Path $PSScriptRoot '../../../standin-exo.ps1')
$script:ModuleVersion = (Import-PowerShellDataFile (Join-Path $PSScriptRoot 'ExchangeOnlineManagement.psd1')).ModuleVersion
