import { describe, expect, it } from 'vitest';
import { CLOUDS, ENVIRONMENT_NAMES } from '../../src/core/clouds.js';
import { powershellWrapper } from '../../src/workers/wrapper.js';

const ippsLine = (environment: (typeof ENVIRONMENT_NAMES)[number]): string =>
  powershellWrapper({
    script: '/w/check.ps1',
    organization: 'contoso.onmicrosoft.com',
    environment,
    compliance: true,
  })
    .split('\n')
    .find((line) => line.trimStart().startsWith('Connect-IPPSSession')) ?? '';

describe('Connect-IPPSSession per cloud', () => {
  it('uses the module default in the commercial cloud', () => {
    expect(ippsLine('O365Default')).not.toMatch(/ConnectionUri|AzureADAuthorizationEndpointUri/);
  });

  it.each([
    [
      'O365USGovGCCHigh',
      'https://ps.compliance.protection.office365.us/powershell-liveid/',
      'https://login.microsoftonline.us/common',
    ],
    [
      'O365USGovDoD',
      'https://l5.ps.compliance.protection.office365.us/powershell-liveid/',
      'https://login.microsoftonline.us/common',
    ],
    [
      'O365China',
      'https://ps.compliance.protection.partner.outlook.cn/powershell-liveid',
      'https://login.chinacloudapi.cn/common',
    ],
  ] as const)('connects %s to its own endpoint and sign-in host', (environment, uri, authority) => {
    const line = ippsLine(environment);
    expect(line).toContain(`-ConnectionUri '${uri}'`);
    expect(line).toContain(`-AzureADAuthorizationEndpointUri '${authority}'`);
    expect(line).toMatch(/-AccessToken \$env:IPPS_ACCESS_TOKEN -Organization 'contoso\.onmicrosoft\.com'/);
    // The sign-in host is the cloud's own Entra host.
    expect(new URL(authority).host).toBe(CLOUDS[environment].authorityHost);
  });
});

describe('-ConnectionUri from an overridden resource', () => {
  const connectLines = (resources: { exchange?: string; compliance?: string }) =>
    powershellWrapper({
      script: '/w/check.ps1',
      organization: 'contoso.onmicrosoft.com',
      environment: 'O365USGovGCCHigh',
      compliance: true,
      resources,
    })
      .split('\n')
      .filter((line) => /^\s*Connect-/.test(line));

  it('connects to a host no cloud knows (a private cloud, the emulator) at its /powershell-liveid/ endpoint', () => {
    const [exo, ipps] = connectLines({
      exchange: 'https://exo.example.test:8443/',
      compliance: 'https://scc.example.test:8443',
    });
    expect(exo).toContain("-ConnectionUri 'https://exo.example.test:8443/powershell-liveid/'");
    expect(exo).toContain("-ExchangeEnvironmentName 'O365USGovGCCHigh'");
    expect(ipps).toContain("-ConnectionUri 'https://scc.example.test:8443/powershell-liveid/'");
    expect(ipps).toContain("-AzureADAuthorizationEndpointUri 'https://login.microsoftonline.us/common'");
  });

  it("leaves a cloud's own resource to -ExchangeEnvironmentName and the compliance table", () => {
    // The DoD workaround (resources: exchange=https://outlook.office365.us) is a token audience, not a host change.
    const [exo, ipps] = connectLines({
      exchange: 'https://outlook.office365.us',
      compliance: 'https://ps.compliance.protection.office365.us',
    });
    expect(exo).not.toContain('-ConnectionUri');
    expect(ipps).toContain(
      "-ConnectionUri 'https://ps.compliance.protection.office365.us/powershell-liveid/'",
    );
  });
});
