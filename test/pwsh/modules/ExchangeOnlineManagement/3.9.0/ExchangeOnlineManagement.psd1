# Stand-in for tests (see ../../../ExchangeOnlineManagement.psm1): not Microsoft's module.
@{
    RootModule        = '../../../ExchangeOnlineManagement.psm1'
    ModuleVersion     = '3.9.0'
    GUID              = 'b5eced50-afa4-455b-847a-d8fb64140a22'
    Author            = 'exo-login tests'
    Description       = 'Stand-in for ExchangeOnlineManagement, against the exo-login test emulator'
    PowerShellVersion = '7.0'
    FunctionsToExport = @('Connect-ExchangeOnline', 'Connect-IPPSSession', 'Disconnect-ExchangeOnline', 'Get-ConnectionInformation', 'Get-EXOMailbox')
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
