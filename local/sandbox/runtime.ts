/**
 * Shiplane on one machine: the synthesized state machine in the local engine, with the REAL handlers
 * and their dependencies built by the same wiring as in Lambda (shared/wiring: the same clients,
 * timeouts and retries), against the endpoints a config names (stand-ins in the sandbox; real
 * services for `shiplane run`). The approvals table (approvals, threads, release claims) is the
 * deployed DynamoDB adapter against a local DynamoDB (dynalite on 127.0.0.1). Only what has no local
 * equivalent changes: task tokens and runs go to the engine, and the SNS alert topic is a callback.
 * ECR is read only when the platform hands over a client for it (the sandbox: its ECR stand-in).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createArgoCdHealthHandler } from '../../functions/argocd-health/handler.js';
import { createCommitterHandler } from '../../functions/committer/handler.js';
import { createFreezeCheckHandler } from '../../functions/freeze-check/handler.js';
import { createIntakeHandler } from '../../functions/intake/handler.js';
import { createNotifyHandler } from '../../functions/notify/handler.js';
import { createPullRequestHandler } from '../../functions/pull-request/handler.js';
import { createRequestApprovalHandler } from '../../functions/request-approval/handler.js';
import { createScanEventsHandler } from '../../functions/scan-events/handler.js';
import { createScanGateHandler } from '../../functions/scan-gate/handler.js';
import { createSecretSyncHandler } from '../../functions/secret-sync/handler.js';
import { createSlackInteractionHandler } from '../../functions/slack-interaction/handler.js';
import { createSweepHandler, type SweepResult } from '../../functions/sweep/handler.js';
import { synthesizeTemplate } from '../../infra/synth.js';
import { dynamoApprovalsStore } from '../../shared/adapters/aws/approvals-table.js';
import { ecrImageFacts } from '../../shared/adapters/aws/ecr-image-facts.js';
import { ecrImageLabels } from '../../shared/adapters/aws/ecr-image-labels.js';
import { ecrRecentImages } from '../../shared/adapters/aws/ecr-recent-images.js';
import { dynamoReleaseClaims } from '../../shared/adapters/aws/release-claims.js';
import { dynamoRunRecords } from '../../shared/adapters/aws/run-records-table.js';
import { dynamoScanWaits } from '../../shared/adapters/aws/scan-waits-table.js';
import type { SecretResolver } from '../../shared/adapters/aws/secrets.js';
import { deduplicationId, messageGroupId } from '../../shared/adapters/aws/sqs-commit-queue.js';
import { startAnswer } from '../../shared/adapters/aws/step-functions.js';
import { RECENT_RUN_EVENTS } from '../../shared/adapters/aws/task-tokens.js';
import type { Config } from '../../shared/config/schema.js';
import type { HandlerName } from '../../shared/contracts/handlers.js';
import type { CommitRequest } from '../../shared/contracts/tasks.js';
import type { Alert } from '../../shared/domain/release-thread.js';
import type { ApprovalsStore } from '../../shared/ports/approvals-store.js';
import type { CommitQueue } from '../../shared/ports/commit-queue.js';
import type { StartExecution } from '../../shared/ports/executions.js';
import type { ReleaseClaims } from '../../shared/ports/release-claims.js';
import type { Reporter } from '../../shared/ports/reporter.js';
import type { RunRecordStore } from '../../shared/ports/run-records.js';
import type { TaskTokens } from '../../shared/ports/task-tokens.js';
import type { ScanWakeResult } from '../../shared/steps/scan-gate/wake.js';
import { argoCdHealthDeps } from '../../shared/wiring/argocd-health.js';
import type { AwsAccess } from '../../shared/wiring/aws.js';
import { committerDeps } from '../../shared/wiring/committer.js';
import { onceAsync } from '../../shared/wiring/deps.js';
import { ecrClient } from '../../shared/wiring/ecr.js';
import { freezeCheckDeps } from '../../shared/wiring/freeze-check.js';
import { intakeDeps, intakeDynamoDB } from '../../shared/wiring/intake.js';
import { notifyDeps, notifyDynamoDB } from '../../shared/wiring/notify.js';
import { pullRequestDeps } from '../../shared/wiring/pull-request.js';
import { requestApprovalDeps, requestApprovalDynamoDB } from '../../shared/wiring/request-approval.js';
import { scanEventsDeps, scanEventsDynamoDB } from '../../shared/wiring/scan-events.js';
import { scanGateDeps } from '../../shared/wiring/scan-gate.js';
import { secretSyncDeps } from '../../shared/wiring/secret-sync.js';
import { interactionDynamoDB, slackInteractionDeps } from '../../shared/wiring/slack-interaction.js';
import { sweepDeps } from '../../shared/wiring/sweep.js';
import { type LocalDynamo, startLocalDynamo } from '../dynamodb/local-dynamo.js';
import {
  createLocalEngine,
  ExecutionAlreadyExistsError,
  engineRunStatus,
  type LocalEngine,
  type LocalHandler,
  type LocalTiming,
  lambdaContext,
  loadDefinition,
} from '../engine/index.js';
import { SANDBOX_ACCOUNT, SANDBOX_REGION, sqsEventOf } from './ecr-push.js';

export interface LocalRuntimeOptions {
  readonly config: Config;
  /** Resolves the config's secret references (env: from an env object; secret: from Secrets Manager). */
  readonly resolveSecret: SecretResolver;
  /** Secrets Manager for secret sync (the sandbox's stand-in); without it there is no secret sync. */
  readonly secretsManager?: SecretsManagerClient;
  /**
   * Where ECR is (the sandbox's stand-in). One client is built for it by the wiring and given to every
   * handler that reads the registry: the image facts in approval messages, and the sweep's listing.
   * Without it nothing reads ECR and there is no sweep.
   */
  readonly ecr?: AwsAccess;
  readonly timing?: LocalTiming;
  /** Where handlers' warnings go (Slack down, a notification that failed). */
  readonly reporter?: Reporter;
  /** Receives what the SNS alert topic would. */
  readonly onAlert?: (alert: Alert) => void;
  /**
   * Least time between two content-creating GitHub requests. Keep GitHub's 1 s against github.com;
   * the sandbox's stand-in needs none. @default 1000
   */
  readonly githubWriteIntervalMs?: number;
}

export interface PushOutcome {
  /** `refused`: the tag was released before with another digest and some stage deploys by tag alone. */
  readonly result: 'started' | 'duplicate' | 'ignored' | 'refused' | 'failed';
  readonly execution?: string;
}

export interface LocalRuntime {
  readonly engine: LocalEngine;
  readonly store: ApprovalsStore;
  /** The run records notify writes (what `shiplane metrics --sandbox` reads). */
  readonly runRecords: RunRecordStore;
  /** The Slack interaction endpoint's handler (API Gateway HTTP API v2 events). */
  readonly interaction: ReturnType<typeof createSlackInteractionHandler>;
  /**
   * Delivers an intake-queue SQS event to the real intake handler. `execution` is the run it
   * started (or found already started); none when the intake ignored the event.
   */
  deliver(event: SQSEvent): Promise<PushOutcome>;
  /** Runs the real secret-sync handler for an EventBridge event (a schedule reconciles everything). */
  syncSecrets(event: unknown): Promise<unknown>;
  /**
   * Runs the real sweep handler once, as its schedule would: lists each app's recent pushes in ECR
   * and starts the runs the intake missed.
   */
  sweep(): Promise<SweepResult>;
  /**
   * Delivers an EventBridge event to the real scan-events handler, as the `ECR Image Scan` and
   * `Inspector2 Scan` rules would: it wakes the runs waiting for that image's scan.
   */
  scanEvent(event: unknown): Promise<ScanWakeResult>;
  /** Resolves when every commit queued outside the engine (secret sync) has been handled. */
  commitsSettled(): Promise<void>;
  stop(): Promise<void>;
}

/** Quiet unless something goes wrong: handlers report Slack outages and the like here. */
export function callbackReporter(warn: (message: string) => void): Reporter {
  return {
    info: () => undefined,
    warn: (message) => warn(message),
    error: (message) => warn(message),
    count: () => undefined,
  };
}

/** The EventBridge event a schedule rule delivers (secret sync's, the sweep's). */
export function scheduledEvent(at: Date = new Date()): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: SANDBOX_ACCOUNT,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: SANDBOX_REGION,
    resources: [],
    detail: {},
  };
}

/**
 * Builds the engine around the real handlers, with the approvals table in a local DynamoDB that
 * `stop()` closes. Synthesizes the stack: takes a few seconds.
 */
export async function createLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const dynamo = await startLocalDynamo();
  try {
    return localRuntime(options, dynamo);
  } catch (error) {
    await dynamo.close();
    throw error;
  }
}

function localRuntime(options: LocalRuntimeOptions, dynamo: LocalDynamo): LocalRuntime {
  const { config, resolveSecret } = options;
  const reporter = options.reporter ?? callbackReporter(() => undefined);
  const store = dynamoApprovalsStore(dynamo.client, dynamo.tableName);
  // Each handler reaches the table with its own client, built by its wiring (attempts, timeouts) as
  // in Lambda; only the endpoint is the local one. dynalite takes any region and credentials.
  const tables: AwsAccess = {
    endpoint: dynamo.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const clients: Array<{ destroy(): void }> = [];
  const tableOf = (client: ReturnType<typeof notifyDynamoDB>) => {
    clients.push(client);
    return dynamoApprovalsStore(client, dynamo.tableName);
  };
  // notify reaches both tables with one client, as its Lambda does.
  const notifyDynamo = notifyDynamoDB(tables);
  clients.push(notifyDynamo);
  const now = () => new Date();
  const ecr = options.ecr ? ecrClient(options.ecr) : undefined;
  if (ecr) clients.push(ecr);
  const publishAlert = options.onAlert
    ? async (alert: Alert) => {
        options.onAlert?.(alert);
      }
    : undefined;

  // The engine's token registry exists once the engine does; handlers built before it reach it through this.
  let engine: LocalEngine | undefined;
  const taskTokens: TaskTokens = {
    succeed: (token, output) => running().taskTokens.succeed(token, output),
    fail: (token, error, cause) => running().taskTokens.fail(token, error, cause),
  };
  const running = () => {
    if (!engine) throw new Error('the local engine is not running');
    return engine;
  };

  const committer = createCommitterHandler(
    committerDeps({
      config,
      resolveSecret,
      taskTokens,
      // The deployed check of each image change's run, against the engine's own runs.
      runs: engineRunStatus(running),
      ...(publishAlert ? { alert: publishAlert } : {}),
      githubLog: {
        debug: () => undefined,
        info: () => undefined,
        warn: (m) => reporter.warn(m),
        error: () => undefined,
      },
      ...(options.githubWriteIntervalMs !== undefined
        ? { githubWriteIntervalMs: options.githubWriteIntervalMs }
        : {}),
    }),
  );

  const scanEventsClient = scanEventsDynamoDB(tables);
  clients.push(scanEventsClient);
  const scanEventsLambda = createScanEventsHandler(
    scanEventsDeps({
      config,
      waits: dynamoScanWaits(scanEventsClient, dynamo.scanWaitsTable),
      taskTokens,
      reporter,
      now,
    }),
  );

  const handlers = {
    committer: committer as LocalHandler,
    // Built on the first poll, then kept like a warm Lambda's: the per-revision caches last across polls.
    'argocd-health': createArgoCdHealthHandler(
      onceAsync(() =>
        argoCdHealthDeps({ config, resolveSecret, argocdRetryNotice: (notice) => reporter.warn(notice) }),
      ),
    ) as LocalHandler,
    'request-approval': createRequestApprovalHandler(
      requestApprovalDeps({
        config,
        resolveSecret,
        store: tableOf(requestApprovalDynamoDB(tables)),
        taskTokens,
        ...(ecr ? { images: ecrImageFacts(ecr, reporter) } : {}),
        reporter,
        now,
      }),
    ) as LocalHandler,
    notify: createNotifyHandler(
      notifyDeps({
        config,
        resolveSecret,
        store: dynamoApprovalsStore(notifyDynamo, dynamo.tableName),
        runs: dynamoRunRecords(notifyDynamo, dynamo.runRecordsTable),
        // The image's OCI labels from the ECR stand-in, so lead time counts from the build as deployed.
        ...(ecr ? { imageLabels: ecrImageLabels(ecr) } : {}),
        ...(publishAlert ? { publishAlert } : {}),
        reporter,
        now,
      }),
    ) as LocalHandler,
    'freeze-check': createFreezeCheckHandler(freezeCheckDeps({ config, reporter, now })) as LocalHandler,
    // Pull requests through the deployed GitHub adapters, against the config's GitHub (a stand-in in the sandbox).
    ...(config.stages.some((stage) => stage.pullRequest)
      ? {
          'pull-request': createPullRequestHandler(
            pullRequestDeps({
              config,
              resolveSecret,
              reporter,
              now,
              githubLog: {
                debug: () => undefined,
                info: () => undefined,
                warn: (m) => reporter.warn(m),
                error: () => undefined,
              },
            }),
          ) as LocalHandler,
        }
      : {}),
    // The scan gate reads findings from the ECR stand-in through the deployed adapter; its waits are
    // kept in the local table and answered through the engine's tokens.
    ...(ecr
      ? {
          'scan-gate': createScanGateHandler(scanGateDeps({ config, ecr, reporter, now })) as LocalHandler,
          'scan-events': scanEventsLambda as LocalHandler,
        }
      : {}),
  };
  const gated = Object.entries(config.apps)
    .filter(([, app]) => app.scan)
    .map(([name]) => name);
  if (gated.length > 0 && !ecr) {
    throw new Error(
      `apps ${gated.join(', ')} have a scan gate (apps.<name>.scan), which reads ECR, and this local run has no ECR to read (the sandbox has its stand-in): leave the gate out of a local run's config`,
    );
  }

  const template = synthesizeTemplate(config);
  engine = createLocalEngine({
    template,
    handlers,
    ...(options.timing ? { timing: options.timing } : {}),
  });
  const started = engine;
  // Handlers called outside the engine get the context the engine gives: the deployed function's
  // timeout and memory, from the same template.
  const functions = loadDefinition(template).functions;
  const contextFor = (name: HandlerName) => {
    const fn = functions.find((candidate) => candidate.handler === name);
    if (!fn) throw new Error(`the synthesized stack has no ${name} function`);
    return lambdaContext(fn);
  };

  const interaction = createSlackInteractionHandler(
    slackInteractionDeps({
      config,
      resolveSecret,
      store: tableOf(interactionDynamoDB(tables)),
      taskTokens,
      // The engine's history, newest first, as GetExecutionHistory with reverseOrder gives it.
      runEvents: async (execution) => running().history(execution).slice(-RECENT_RUN_EVENTS).reverse(),
      reporter,
      now,
    }),
  );

  // StartExecution against the engine, with AWS's answer for a name that is taken. Each delivery
  // keeps what it started in its own async context: two pushes at once must not swap their answers.
  const delivery = new AsyncLocalStorage<{ outcome?: PushOutcome }>();
  const startExecution: StartExecution = async ({ name, input }) => {
    const current = delivery.getStore();
    const requestedAt = Date.now();
    try {
      const execution = started.start(input, name);
      const answer = startAnswer(execution.executionArn, execution.startDate, requestedAt);
      if (current) {
        current.outcome = { result: answer.status === 'started' ? 'started' : 'duplicate', execution: name };
      }
      return answer;
    } catch (error) {
      if (error instanceof ExecutionAlreadyExistsError) {
        if (current) current.outcome = { result: 'duplicate', execution: name };
        return { status: 'already-exists' };
      }
      throw error;
    }
  };
  // Built only when some stage deploys by tag alone, as in Lambda.
  const releaseClaims = (): ReleaseClaims => {
    const client = intakeDynamoDB(tables);
    clients.push(client);
    const claims = dynamoReleaseClaims(client, dynamo.tableName);
    return {
      async claim(request) {
        const claim = await claims.claim(request);
        const current = delivery.getStore();
        if (claim.status === 'conflict' && current) current.outcome = { result: 'refused' };
        return claim;
      },
    };
  };
  const intake = createIntakeHandler(intakeDeps({ config, startExecution, releaseClaims }));
  // The sweep starts runs exactly as the intake does (the same deterministic names), so a push the
  // intake started is found, never started twice.
  const sweep = ecr
    ? createSweepHandler(
        sweepDeps({ config, startExecution, releaseClaims, recentImages: ecrRecentImages(ecr) }),
      )
    : undefined;

  // Secret sync sends to the commit queue; locally its messages go to the same committer, in order.
  let queue: Promise<void> = Promise.resolve();
  const commitQueue: CommitQueue = {
    async send(request: CommitRequest) {
      const id = deduplicationId(request.change, request);
      const body = JSON.stringify(request);
      const event = sqsEventOf(request, 'shiplane-commits.fifo');
      const record = event.Records[0];
      if (record) {
        record.body = body;
        record.md5OfBody = createHash('md5').update(body).digest('hex');
        record.attributes.MessageGroupId = messageGroupId(request.repository, request.branch);
        record.attributes.MessageDeduplicationId = id;
      }
      const messageId = record?.messageId ?? randomUUID();
      queue = queue.then(async () => {
        const result = (await committer(event, contextFor('committer'))) as SQSBatchResponse | undefined;
        if (result?.batchItemFailures?.length) {
          reporter.warn(`the committer could not commit ${request.change.file}; see its log`);
        }
      });
      queue = queue.catch((error: unknown) => reporter.warn(`committer failed: ${(error as Error).message}`));
      return { messageId, deduplicationId: id };
    },
  };
  const secretSync = options.secretsManager
    ? createSecretSyncHandler(
        secretSyncDeps({ config, secretsManager: options.secretsManager, queue: commitQueue }),
      )
    : undefined;

  return {
    engine: started,
    store,
    runRecords: dynamoRunRecords(dynamo.client, dynamo.runRecordsTable),
    interaction,
    async deliver(event) {
      const current: { outcome?: PushOutcome } = {};
      const response = await delivery.run(current, () => intake(event, contextFor('intake')));
      if (response.batchItemFailures.length > 0) return { result: 'failed' };
      return current.outcome ?? { result: 'ignored' };
    },
    async syncSecrets(event) {
      if (!secretSync) throw new Error('no Secrets Manager: secret sync is off');
      return secretSync(event, contextFor('secret-sync'));
    },
    async sweep() {
      if (!sweep) throw new Error('no ECR: the sweep has nothing to list');
      return sweep(scheduledEvent(), contextFor('sweep'));
    },
    async scanEvent(event) {
      if (!ecr) throw new Error('no ECR: nothing is scanned, so no scan events');
      return (await scanEventsLambda(event, contextFor('scan-events'))) as ScanWakeResult;
    },
    commitsSettled: () => queue,
    async stop() {
      try {
        await started.stop();
        await queue;
      } finally {
        for (const client of clients) client.destroy();
        await dynamo.close();
      }
    },
  };
}
