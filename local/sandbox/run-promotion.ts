/**
 * What `shiplane run` does once its input is valid: one promotion through the local engine with
 * the real handlers, against the endpoints the config names, with the Slack interaction endpoint
 * served on 127.0.0.1 while the run waits for a decision.
 */

import { createSecretResolver } from '../../shared/adapters/aws/secrets.js';
import type { Config } from '../../shared/config/schema.js';
import type { RunOutcome } from '../../shared/contracts/tasks.js';
import { buildTimeline, summarizeRun } from '../../shared/domain/execution-timeline.js';
import type { EcrImageActionEvent } from '../../shared/steps/intake/ecr-event.js';
import type { Io } from '../io.js';
import { sqsEventOf } from './ecr-push.js';
import { callbackReporter, createLocalRuntime } from './runtime.js';
import { startSandboxServer } from './server.js';
import { settled } from './settled.js';
import { createTimelinePrinter } from './terminal.js';

/** A run the CLI has checked: a valid config and the ECR event to promote. */
export interface LocalPromotionRequest {
  readonly config: Config;
  readonly event: EcrImageActionEvent;
}

/** The last line of `shiplane run --json`. */
export interface RunSummaryJson {
  readonly execution: string | null;
  readonly status: string | null;
  readonly outcome: RunOutcome | 'ignored';
  readonly stages: ReadonlyArray<{ readonly name: string; readonly commit: string | null }>;
}

export interface LocalPromotionOptions {
  readonly port: number;
  /** Seconds every Wait state waits; the config's poll interval when absent. */
  readonly pollSeconds?: number;
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  /** Aborting stops the run (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Runs the promotion the event asks for and returns the summary `--json` prints. */
export async function runLocalPromotion(
  validated: LocalPromotionRequest,
  options: LocalPromotionOptions,
): Promise<RunSummaryJson> {
  const { config } = validated;
  const { io } = options;
  // Before the runtime starts: a missing secret must not leave its local DynamoDB listening.
  const signingSecret = await createSecretResolver({ env: options.env })(config.slack.signingSecret);
  const runtime = await createLocalRuntime({
    config,
    resolveSecret: createSecretResolver({ env: options.env }),
    ...(options.pollSeconds !== undefined ? { timing: { waitSeconds: options.pollSeconds } } : {}),
    reporter: callbackReporter((message) => io.err(`! ${message}`)),
    onAlert: (alert) => io.err(`alert (SNS topic, not sent locally): ${alert.subject}`),
  });
  let server: Awaited<ReturnType<typeof startSandboxServer>> | undefined;
  const off = runtime.engine.on(
    'event',
    createTimelinePrinter((line) => io.out(line)),
  );
  try {
    server = await startSandboxServer({
      port: options.port,
      signingSecret,
      interaction: runtime.interaction as never,
    });
    io.out(`Slack interaction endpoint: ${server.interactionUrl}`);

    let execution: string | undefined;
    let stopped = false;
    const abort = () => {
      stopped = true;
      io.err('stopping the run…');
      if (execution) {
        void runtime.engine
          .stopExecution(execution, { error: 'Shiplane.Stopped', cause: 'stopped from the CLI' })
          .catch(() => undefined);
      }
    };
    options.signal?.addEventListener('abort', abort, { once: true });

    const outcome = await runtime.deliver(sqsEventOf(validated.event));
    execution = outcome.execution;
    if (outcome.result === 'failed' || !execution) {
      io.err('the intake handler could not start the run; see its log line above');
      return { execution: null, status: null, outcome: 'failed', stages: [] };
    }
    if (outcome.result === 'duplicate') io.out(`execution ${execution} already exists; following it`);
    if (stopped) abort();
    const description = await settled(runtime, execution);
    options.signal?.removeEventListener('abort', abort);
    const summary = summarizeRun(buildTimeline(runtime.engine.history(execution)));
    return {
      execution,
      status: description.status,
      outcome: summary.outcome ?? 'failed',
      stages: config.stages.map((stage) => ({
        name: stage.name,
        commit: summary.stages.find((s) => s.name === stage.name)?.commit ?? null,
      })),
    };
  } finally {
    off();
    await server?.close();
    await runtime.stop();
  }
}
