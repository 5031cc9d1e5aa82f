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
