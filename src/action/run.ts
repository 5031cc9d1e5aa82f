import * as core from '@actions/core';
import { gitHubActionsSource } from '../core/assertion.js';
import { errorMessage, errorStack, ExoLoginError } from '../core/errors.js';
import { closeIdleConnections } from '../core/http.js';
import { ExoLoginSession, type ExoTokens } from '../core/session.js';
import type { WorkerRow } from '../workers/index.js';
import { ignoredInputsWarning, parseInputs, type ActionInputs } from './inputs.js';
import { Input } from './names.js';
import { publishTokens } from './outputs.js';
import {
  describePresented,
  describeTokens,
  sessionSummaryRows,
  tokenSummaryRows,
  workerSummaryRows,
} from './report.js';
import { escapeHtml, logText } from '../core/workflow-commands.js';

/** The action: validate inputs, mint tokens, publish them, then run workers if asked. */
export async function run(): Promise<void> {
  try {
    const inputs = parseInputs((name: Input) => core.getInput(name));
    // A forgotten `scripts` should not pass silently.
    const ignored = ignoredInputsWarning(inputs.ignoredInputs);
    if (ignored !== undefined) core.warning(ignored);
    // Loaded only when there are workers: a token-only run does not pay for child_process and globbing. Paths,
    // globs and the organization are checked here, before any request, like every other input.
    const workers = inputs.workers && {
      inputs: inputs.workers,
      phase: await import('./workers.js'),
    };
    const plan = workers && (await workers.phase.planWorkerPhase(workers.inputs, inputs.settings));
    // The settings as resolved, with their names and sources: the session re-parses nothing.
    const session = ExoLoginSession.fromSettings(inputs.settings, {
      assertion: gitHubActionsSource(process.env, { onRetry: (message) => core.info(logText(message)) }),
      onSecret: (secret) => core.setSecret(secret),
      // Retry notes carry server answers and network errors: outside text.
      onRetry: (message) => core.info(logText(message)),
    });
    const tokens = await core.group('Exchange Online token', async () => {
      const minted = await session.mint();
      const presented = session.presentedClaims();
      core.info(describePresented(inputs.settings.authorityHost, presented));
      for (const line of describeTokens(minted)) core.info(line);
      return minted;
    });
    for (const warning of tokens.warnings) core.warning(logText(warning));
    publishTokens(tokens, inputs.exportEnv);
    const rows =
      workers && plan ? await workers.phase.runWorkerPhase(workers.inputs, plan, session) : undefined;
    await writeSummary(inputs, tokens, rows);
  } catch (error) {
    // The stack only through the debug channel (shown with RUNNER_DEBUG=1 / "Enable debug logging").
    if (core.isDebug()) core.debug(errorStack(error));
    // Known failures are one paragraph for the user; anything else is a bug worth its message.
    // Messages quote server answers and presented claims (a subject with a branch name): one inert line.
    core.setFailed(
      logText(
        error instanceof ExoLoginError
          ? error.message
          : `exo-login failed unexpectedly: ${errorMessage(error)}`,
      ),
    );
  } finally {
    closeIdleConnections();
  }
}

async function writeSummary(
  inputs: ActionInputs,
  tokens: ExoTokens,
  rows: WorkerRow[] | undefined,
): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return;
  core.summary
    .addHeading('Exchange Online', 3)
    .addRaw(
      `Tenant <code>${escapeHtml(tokens.tenantId)}</code>${tokens.organization ? ` (${escapeHtml(tokens.organization)})` : ''}, environment ${escapeHtml(tokens.environment)}, app <code>${escapeHtml(inputs.settings.clientId)}</code>.`,
      true,
    )
    .addTable(asTable(tokenSummaryRows(tokens)));
  if (rows) core.summary.addHeading('Workers', 3).addTable(asTable(workerSummaryRows(rows)));
  const sessions = rows ? sessionSummaryRows(rows) : [];
  if (sessions.length > 0) core.summary.addHeading('PowerShell sessions', 3).addTable(asTable(sessions));
  await core.summary.write();
}

function asTable(rows: string[][]): (string | { data: string; header: boolean })[][] {
  return rows.map((row, i) => (i === 0 ? row.map((data) => ({ data, header: true })) : row));
}
