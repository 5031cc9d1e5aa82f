import { CLOUDS } from './clouds.js';
import { authorityMetadata, malformedAnswer } from './entra-answer.js';
import {
  AttemptRecorder,
  isOk,
  networkModule,
  type EntraExchange,
  type EntraToken,
  type Observation,
} from './entra-attempt.js';
import { explainEntraError, parseEntraError } from './entra-errors.js';
import { ExoLoginError, errorMessage } from './errors.js';
import { withRetry } from './retry.js';
import { explainTransport, fixFor } from './troubleshooting.js';
import type { ResourceRequest } from './validate.js';

export type { EntraExchange, EntraToken } from './entra-attempt.js';
export { authorityMetadata, tokenAnswerProblem } from './entra-answer.js';

type Msal = typeof import('@azure/msal-node');

/**
 * One resource's token from Entra by client credentials with the federated token as assertion, retried on
 * transient failures. A fresh MSAL instance per attempt: MSAL caches a throttle entry after 429/5xx and would
 * fail the retry without sending it. The assertion callback runs per attempt, so an aged ID token is replaced.
 */
export async function requestToken(
  msal: Msal,
  exchange: EntraExchange,
  request: ResourceRequest,
  signal: AbortSignal,
): Promise<EntraToken> {
  const { settings } = exchange;
  const recorder = new AttemptRecorder(exchange);
  const system = {
    networkClient: networkModule(exchange, recorder, request.resource, signal),
    loggerOptions: {
      logLevel: msal.LogLevel.Error,
      piiLoggingEnabled: false,
      loggerCallback: () => undefined,
    },
  };
  const attempt = async (_n: number, context: { deadline: number }): Promise<EntraToken> => {
    recorder.start(context.deadline);
    const app = new msal.ConfidentialClientApplication({
      auth: {
        clientId: settings.clientId,
        authority: `https://${settings.authorityHost}/${settings.tenantId}`,
        clientAssertion: () => exchange.assertion.get(),
        knownAuthorities: [settings.authorityHost],
        authorityMetadata: authorityMetadata(settings.authorityHost, settings.tenantId),
      },
      system,
    });
    const auth = await app.acquireTokenByClientCredential({
      scopes: [`${request.resource}/.default`],
      skipCache: true,
    });
    if (!auth?.accessToken || !auth.expiresOn || Number.isNaN(auth.expiresOn.getTime()))
      throw malformedAnswer(settings.authorityHost, request.resource, 200, 'MSAL read no token from it');
    return { accessToken: auth.accessToken, expiresOn: auth.expiresOn };
  };
  return withRetry(attempt, () => recorder.classify(request.resource), {
    ...(exchange.retryPolicy && { policy: exchange.retryPolicy }),
    ...(exchange.clock && { clock: exchange.clock }),
    signal,
    onRetry: ({ attempt: n, delayMs }) =>
      exchange.onRetry?.(
        `Token request to Entra ID for ${request.resource}: attempt ${n} failed (${recorder.describe()}); retrying in ${delayMs} ms`,
      ),
  }).catch((error: unknown) => {
    throw explain(error, recorder.last, exchange, request.resource);
  });
}

/** The user's paragraph for a failed request, from what the last exchange saw; each condition tested once. */
function explain(error: unknown, last: Observation, exchange: EntraExchange, resource: string): Error {
  const { settings, assertion } = exchange;
  if (last.malformed) return last.malformed;
  if (last.transport)
    return new ExoLoginError(explainTransport(last.transport), 'entra-network', { cause: error });
  if (last.response && !isOk(last.response.status)) {
    const entra = parseEntraError(last.response.body);
    if (entra === undefined) {
      return new ExoLoginError(
        `Entra ID at ${settings.authorityHost} answered HTTP ${last.response.status} without an OAuth error body. ${fixFor('throttled')}`,
        'entra-http',
      );
    }
    return explainEntraError(entra, last.response.status, {
      clientId: settings.clientId,
      tenant: settings.tenantId,
      environment: settings.environment,
      authorityHost: settings.authorityHost,
      resource,
      assertion: assertion.lastToken,
      assertionSource: assertion.description,
      audience: {
        source: settings.sources.audience,
        name: settings.names.audience,
        recommended: CLOUDS[settings.environment].oidcAudience,
      },
    });
  }
  // Failures before Entra answered, such as the federated token's source, are already explained.
  if (error instanceof ExoLoginError) return error;
  return new ExoLoginError(`Token request for ${resource} failed: ${errorMessage(error)}`, 'entra-client', {
    cause: error,
  });
}
