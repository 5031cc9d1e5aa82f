/**
 * One line per failed resource for `pulumi up`: what was being done, the server's message with the cmdlet and
 * request ids (from the client's error), and the fix.
 */
import { ExoLoginError, errorMessage } from '../core/errors.js';
import { ExchangeApiError } from '../exchange/index.js';
import { plainLine } from './model.js';

export interface OperationContext {
  /** e.g. `TransportRule 'Block executables'` */
  what: string;
  phase: 'check' | 'create' | 'read' | 'update' | 'delete';
  /** For "already exists": the value to pass as the `import` resource option. */
  importId?: string;
}

/** Extra fields the dynamic-provider host reads to record a half-made resource (ErrorResourceInitFailed). */
export interface InitFailure {
  id?: string;
  properties?: Record<string, unknown>;
  reasons?: string[];
}

export class ExchangeResourceError extends ExoLoginError implements InitFailure {
  id?: string;
  properties?: Record<string, unknown>;
  reasons?: string[];
}

export function fixFor(error: unknown, context: OperationContext): string {
  if (!(error instanceof ExchangeApiError)) return '';
  switch (error.reason) {
    case 'already-exists':
      return context.phase === 'create'
        ? ` To manage the existing object with Pulumi, add the resource option { import: ${JSON.stringify(context.importId ?? '')} }, run pulumi up once, then remove the option; or give this resource another name.`
        : '';
    case 'not-found':
      return context.phase === 'update'
        ? ' It was deleted outside Pulumi: run pulumi refresh (which drops it from the state), then pulumi up to create it again.'
        : '';
    case 'bad-request':
      return ` Check the declared properties against ${error.cmdlet}'s parameters (names, types, allowed values).`;
    default:
      return '';
  }
}

/** Wraps any failure of a provider operation in one clear line; secrets never reach it (the client redacts). */
export function explainOperation(error: unknown, context: OperationContext): ExchangeResourceError {
  const message = plainLine(`${context.what}: ${errorMessage(error)}${fixFor(error, context)}`);
  const code = error instanceof ExoLoginError ? error.code : 'pulumi';
  return new ExchangeResourceError(message, code, { cause: error });
}

export function isReason(error: unknown, reason: ExchangeApiError['reason']): boolean {
  return error instanceof ExchangeApiError && error.reason === reason;
}
