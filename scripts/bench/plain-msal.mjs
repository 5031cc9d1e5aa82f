// Baseline for `npm run bench`: the same flow written the plain way, unbundled: @actions/core's getIDToken and
// msal-node straight from node_modules. It is given the same authority metadata, so it sends the same requests
// (one OIDC, one token): the comparison measures what exo-login's packaging and code cost, not request counts.
import * as core from '@actions/core';
import { ConfidentialClientApplication } from '@azure/msal-node';

const host = core.getInput('authority-host');
const tenant = core.getInput('tenant-id');
const base = `https://${host}/${tenant}`;
const idToken = await core.getIDToken('api://AzureADTokenExchange');
const app = new ConfidentialClientApplication({
  auth: {
    clientId: core.getInput('client-id'),
    authority: base,
    clientAssertion: idToken,
    knownAuthorities: [host],
    authorityMetadata: JSON.stringify({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
    }),
  },
});
const result = await app.acquireTokenByClientCredential({
  scopes: ['https://outlook.office365.com/.default'],
});
core.setSecret(result.accessToken);
core.setOutput('access-token', result.accessToken);
core.setOutput('expires-on', result.expiresOn.toISOString());
