import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { createCommitterHandler, handler } from '../../../functions/committer/handler.js';
import type { GitHubServer } from '../../../local/stand-ins/github/index.js';
import { stepFunctionsRunStatus } from '../../../shared/adapters/aws/run-status.js';
import { CONFIG_ENV, serializeConfigInput } from '../../../shared/config/runtime.js';
import { type CommitRequest, commitResultSchema } from '../../../shared/contracts/tasks.js';
import { type AcceptChange, configuredChanges } from '../../../shared/domain/allowed-changes.js';
import { renderExternalSecretsFile } from '../../../shared/domain/external-secret.js';
import type { Alert } from '../../../shared/domain/release-thread.js';
import { deployedCommitter } from '../../../shared/wiring/committer.js';
import { metrics } from '../../../shared/wiring/lambda.js';
import { RunHistory, serveHistory } from '../../shared/adapters/aws/sfn-history.js';
import {
  connect,
  imageRequest,
  manualRollbackRequest,
  PRODUCTION,
  REPOSITORY,
  type RecordedAnswer,
  type RecordingRuns,
  recordingRuns,
  recordingTaskTokens,
  release,
  STAGING,
  startItdoGitHub,
} from '../../shared/steps/commit/support.js';

const RECORD = JSON.parse(
  readFileSync(new URL('../../fixtures/gitops/sqs-fifo-record.json', import.meta.url), 'utf8'),
) as SQSRecord;

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ShiplanePromotion';
const EXECUTION_PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution:ShiplanePromotion:';

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'shiplane-committer',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shiplane-committer',
  memoryLimitInMB: '512',
  awsRequestId: '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f',
  logGroupName: '/aws/lambda/shiplane-committer',
  logStreamName: '2025/01/15/[$LATEST]fedcba9876543210',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

/** The runs the committer under test sees: each event's image requests are RUNNING unless a test said otherwise. */
let runs: RecordingRuns = recordingRuns();

/** An SQS FIFO batch as Lambda delivers it: one record per body, in order, sent just now. */
function sqsEvent(bodies: (CommitRequest | string)[], sentAt = Date.now()): SQSEvent {
  for (const body of bodies) if (typeof body !== 'string') runs.running(body);
  return {
    Records: bodies.map((body, index) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return {
        ...RECORD,
        messageId: `msg-${index + 1}`,
        body: text,
        md5OfBody: createHash('md5').update(text).digest('hex'),
        attributes: {
          ...RECORD.attributes,
          SentTimestamp: String(sentAt),
          SequenceNumber: String(18891049683529516288n + BigInt(index)),
        },
      };
    }),
  };
}

let server: GitHubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setUp(
  options: {
    refuse?: Record<string, string>;
    token?: string;
    retries?: number;
    accept?: AcceptChange;
    /** Milliseconds per second of `retry-after`. @default 1 */
    rateLimitSecondMs?: number;
    taskTimeoutMs?: number;
  } = {},
) {
  server = await startItdoGitHub();
  const taskTokens = recordingTaskTokens(options.refuse);
  runs = recordingRuns();
  const alerts: Alert[] = [];
  const github = await connect(server, {
    ...(options.token ? { token: options.token } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.rateLimitSecondMs !== undefined ? { rateLimitSecondMs: options.rateLimitSecondMs } : {}),
  });
  const committer = createCommitterHandler({
    github,
    taskTokens,
    runs,
    alert: async (alert) => {
      alerts.push(alert);
    },
    commit: { sleep: async () => undefined },
    ...(options.accept ? { accept: options.accept } : {}),
    ...(options.taskTimeoutMs !== undefined ? { taskTimeoutMs: options.taskTimeoutMs } : {}),
  });
  return { server, taskTokens, committer, runs, alerts };
}

const byToken = (answers: RecordedAnswer[]) =>
  Object.fromEntries(answers.map((answer) => [answer.token, answer]));

const SECRETS_FILE = 'environments/production/external-secrets.yaml';
const RENDERED_SECRETS = renderExternalSecretsFile([
  {
    secretName: 'itdo-erp/production/database',
    versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
    shape: { kind: 'json', keys: ['password', 'username'] },
    secretStore: { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' },
    refreshInterval: '1h',
  },
]);

/** A whole-file write of the production secrets file, as secret sync sends it. */
const secretsFileRequest = (content: string | null): CommitRequest => ({
  repository: REPOSITORY,
  branch: 'main',
  change: {
    kind: 'file',
    stage: 'production',
    file: SECRETS_FILE,
    content,
    summary: 'Sync external secrets for production (1 changed)',
  },
});

describe('committer handler', () => {
  it('commits a batch of good and bad changes once, answering each run on its own', async () => {
    // Prepare
    const { server, taskTokens, committer } = await setUp();
    const before = await server.head();

    // Act
    const response = await committer(
      sqsEvent([
        imageRequest('backend', 'v2.1.6', { token: 't-backend' }),
        imageRequest('worker', 'v1.0.0', { token: 't-worker' }),
        imageRequest('frontend', 'v1.8.2', { token: 't-frontend' }),
      ]),
      context,
    );

    // Assess
    const head = await server.head();
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await server.git('rev-list', '--count', `${before}..main`)).trim()).toBe('1');
    const answers = byToken(taskTokens.answers);
    expect(commitResultSchema.parse(answers['t-backend']?.output)).toEqual({
      commit: head,
      status: 'committed',
      previousTag: 'v2.1.5',
      previousDigest: null,
    });
    expect(answers['t-frontend']?.output).toEqual({
      commit: head,
      status: 'unchanged',
      previousTag: 'v1.8.2',
      previousDigest: null,
    });
    expect(answers['t-worker']).toEqual({
      token: 't-worker',
      error: 'Shiplane.CommitFailed',
      cause: `Promote worker v1.0.0 to staging in ${REPOSITORY} (branch main) cannot be applied: ${STAGING} has no images entry for itdo-erp/worker: add "- name: itdo-erp/worker" under images:, or set createIfMissing: true on the stage`,
    });
    expect(await server.git('log', '-1', '--format=%s', 'main')).toBe('Promote backend v2.1.6 to staging\n');
  });

  it('answers Shiplane.Superseded, naming both tags, for a change a newer release replaced in the batch or already pins', async () => {
    const { server, taskTokens, committer } = await setUp();

    await committer(
      sqsEvent([
        imageRequest('backend', 'v2.1.6', { token: 't-replaced' }),
        imageRequest('backend', 'v2.1.7', { token: 't-newer' }),
      ]),
      context,
    );
    await committer(sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't-older' })]), context);

    const answers = byToken(taskTokens.answers);
    expect(answers['t-newer']?.output).toMatchObject({ status: 'committed' });
    expect(answers['t-replaced']).toEqual({
      token: 't-replaced',
      error: 'Shiplane.Superseded',
      cause: `itdo-erp/backend v2.1.6 was not deployed to staging: v2.1.7 is already there. itdo-erp/backend v2.1.6 was replaced in the same commit to ${STAGING} by a later release (v2.1.7); it is not deployed to staging (${REPOSITORY}, branch main)`,
    });
    expect(answers['t-older']).toEqual({
      token: 't-older',
      error: 'Shiplane.Superseded',
      cause: `itdo-erp/backend v2.1.6 was not deployed to staging: v2.1.7 is already there. ${STAGING} already pins itdo-erp/backend v2.1.7, newer than v2.1.6; Shiplane does not move staging back to an older release (to roll back, revert the commit in the GitOps repository) (${REPOSITORY}, branch main)`,
    });
    expect(parse((await server.readFile(STAGING))!).images[0].newTag).toBe('v2.1.7');
  });

  it('makes one commit per branch when a batch holds several message groups', async () => {
    const { server, taskTokens, committer } = await setUp();
    await server.git('branch', 'release', 'main');
    const onRelease = { ...imageRequest('frontend', 'v1.8.3', { token: 't-release' }), branch: 'release' };

    const response = await committer(
      sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't-main' }), onRelease]),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    const answers = byToken(taskTokens.answers);
    expect(answers['t-main']?.output).toMatchObject({
      commit: await server.head('main'),
      status: 'committed',
    });
    expect(answers['t-release']?.output).toMatchObject({
      commit: await server.head('release'),
      status: 'committed',
    });
    expect(parse((await server.readFile(STAGING, 'release'))!).images[0].newTag).toBe('v2.1.5');
    expect(parse((await server.readFile(STAGING, 'main'))!).images[1].newTag).toBe('v1.8.2');
  });

  it('reports a malformed message as a batch item failure and still commits the rest', async () => {
    const { server, taskTokens, committer } = await setUp();
    const invalid = { ...imageRequest('frontend', 'v1.9.0', { token: 't-invalid' }), branch: '' };

    const response = await committer(
      sqsEvent([
        'not json {',
        imageRequest('backend', 'v2.1.6', { token: 't-backend' }),
        invalid as CommitRequest,
      ]),
      context,
    );

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-3' }],
    });
    const answers = byToken(taskTokens.answers);
    expect(answers['t-backend']?.output).toMatchObject({ status: 'committed' });
    expect(answers['t-invalid']).toMatchObject({
      error: 'Shiplane.CommitFailed',
      cause: expect.stringContaining('the commit request is not valid: branch:'),
    });
    expect(parse((await server.readFile(STAGING))!).images[0].newTag).toBe('v2.1.6');
  });

  it('commits a change that says its edit and one sent before change.edit existed (a run in flight during an upgrade)', async () => {
    const { server, taskTokens, committer } = await setUp();
    const before = await server.head();
    const explicit = imageRequest('frontend', 'v1.9.0', { token: 't-explicit' });
    const inFlight = imageRequest('backend', 'v2.1.6', { token: 't-in-flight', edit: null });
    expect(explicit.change).toMatchObject({ edit: 'promotion' });
    expect(inFlight.change).not.toHaveProperty('edit');

    const response = await committer(sqsEvent([explicit, inFlight]), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect((await server.git('rev-list', '--count', `${before}..main`)).trim()).toBe('1');
    const answers = byToken(taskTokens.answers);
    expect(answers['t-explicit']?.output).toMatchObject({ status: 'committed' });
    expect(answers['t-in-flight']?.output).toMatchObject({ status: 'committed' });
  });

  it('refuses a change whose edit contradicts its fields, naming both: nothing written, its run failed', async () => {
    const { server, taskTokens, committer } = await setUp();
    const before = await server.head();
    const promotion = imageRequest('backend', 'v2.1.6', { token: 't-says-rollback' });
    if (promotion.change.kind !== 'image') throw new Error('an image change');
    const saysRollback = { ...promotion, change: { ...promotion.change, edit: 'rollback' as const } };

    const response = await committer(sqsEvent([saysRollback]), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(await server.head()).toBe(before);
    expect(taskTokens.answers).toEqual([
      {
        token: 't-says-rollback',
        error: 'Shiplane.CommitFailed',
        cause:
          'the commit request is not valid: change.edit: the change says it is a rollback, but it carries neither `rollback` nor `manualRollback` (a promotion); nothing is written for a change whose edit and fields disagree',
      },
    ]);
  });

  it('hands the whole batch back to SQS when GitHub stays down, leaving the branch as it was', async () => {
    const { server, taskTokens, committer } = await setUp({ retries: 1 });
    const before = await server.head();
    server.inject({ kind: 'bad-gateway', method: 'POST', path: '/git/commits', times: 10 });

    const response = await committer(
      sqsEvent([imageRequest('backend', 'v2.1.6'), imageRequest('frontend', 'v1.8.3')]),
      context,
    );

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-2' }],
    });
    expect(taskTokens.answers).toEqual([]);
    expect(await server.head()).toBe(before);
  });

  it('rides out 5xx answers with retries and commits', async () => {
    const { server, taskTokens, committer } = await setUp();
    server.inject({ kind: 'bad-gateway', path: '/branches/' });
    server.inject({ kind: 'server-error', path: '/git/trees' });

    const response = await committer(sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't' })]), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(taskTokens.answers[0]?.output).toMatchObject({ status: 'committed', commit: await server.head() });
  });

  it('fails each waiting run with a cause that names the credentials when GitHub rejects them', async () => {
    const { taskTokens, committer } = await setUp({ token: 'ghp_expired' });

    const response = await committer(
      sqsEvent([
        imageRequest('backend', 'v2.1.6', { token: 't-1' }),
        imageRequest('frontend', 'v1.8.3', { token: null }),
      ]),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-2' }] });
    expect(taskTokens.answers).toEqual([
      {
        token: 't-1',
        error: 'Shiplane.CommitFailed',
        cause: expect.stringMatching(
          /^Promote backend v2\.1\.6 to staging in itdo-erp\/itdo-erp-infrastructure \(branch main\) failed with GitHubAuthError: GitHub rejected the credentials .*\(401 Bad credentials\): check the token in secret:shiplane\/github-token$/,
        ),
      },
    ]);
  });

  it('re-applies on top of a writer that raced it, so both updates land', async () => {
    const { server, taskTokens, committer } = await setUp();
    server.before({ method: 'PATCH', path: '/git/refs/heads/main' }, async () => {
      const text = (await server.readFile(STAGING))!.replace('newTag: "v1.8.2"', 'newTag: "v1.9.0"');
      await server.commitAs({ [STAGING]: text });
    });

    await committer(sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't' })]), context);

    const images = parse((await server.readFile(STAGING))!).images as { newTag: string }[];
    expect(images.map((image) => image.newTag)).toEqual(['v2.1.6', 'v1.9.0']);
    expect(taskTokens.answers[0]?.output).toMatchObject({ commit: await server.head(), status: 'committed' });
  });

  it('writes only the files the config names: another path fails its run and never reaches GitHub', async () => {
    const { server, taskTokens, committer } = await setUp({
      accept: configuredChanges({
        gitops: { repository: REPOSITORY, branch: 'main' },
        apps: { backend: {} },
        stages: [{ name: 'staging', file: `./${STAGING}`, pinDigest: true, createIfMissing: false }],
        secrets: [{ file: 'environments/production/external-secrets.yaml' }],
      }),
    });
    const before = await server.head();
    const workflow: CommitRequest = {
      taskToken: 't-workflow',
      repository: REPOSITORY,
      branch: 'main',
      change: {
        kind: 'file',
        stage: 'production',
        file: '.github/workflows/deploy.yaml',
        content: 'on: push\n',
        summary: 'Sync external secrets for production (1 changed)',
      },
    };

    const response = await committer(
      sqsEvent([
        workflow,
        imageRequest('backend', 'v2.1.6', {
          token: 't-other-file',
          file: 'environments/production/kustomization.yaml',
        }),
        imageRequest('backend', 'v2.1.6', { token: 't-backend' }),
      ]),
      context,
    );

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-2' }],
    });
    const answers = byToken(taskTokens.answers);
    expect(answers['t-workflow']).toMatchObject({
      error: 'Shiplane.CommitFailed',
      cause: expect.stringContaining(
        ".github/workflows/deploy.yaml in itdo-erp/itdo-erp-infrastructure@main is not a file the config's secrets name",
      ),
    });
    expect(answers['t-other-file']).toMatchObject({
      error: 'Shiplane.CommitFailed',
      cause: expect.stringContaining('is not the file of stage staging in the config'),
    });
    expect(answers['t-backend']?.output).toMatchObject({ status: 'committed' });
    expect(await server.readFile('.github/workflows/deploy.yaml')).toBeNull();
    expect((await server.git('rev-list', '--count', `${before}..main`)).trim()).toBe('1');
  });

  it('commits a change nobody waits for (secret sync) the same way', async () => {
    const { server, committer } = await setUp();
    const sync = secretsFileRequest(RENDERED_SECRETS);

    const response = await committer(sqsEvent([sync]), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await server.readFile('environments/production/external-secrets.yaml')).toBe(RENDERED_SECRETS);
    expect(await server.git('log', '-1', '--format=%B', 'main')).toBe(
      'Sync external secrets for production (1 changed)\n\n',
    );
  });

  it('does not redeliver a change whose run is gone, but does when the answer did not get through', async () => {
    const { committer } = await setUp({
      refuse: { 't-gone': 'TaskTimedOut', 't-throttled': 'ThrottlingException' },
    });

    const response = await committer(
      sqsEvent([
        imageRequest('backend', 'v2.1.6', { token: 't-gone' }),
        imageRequest('frontend', 'v1.8.3', { token: 't-throttled' }),
      ]),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-2' }] });
  });

  it('answers a redelivered change as unchanged at the same commit', async () => {
    const { server, taskTokens, committer } = await setUp();
    const event = sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't' })]);

    await committer(event, context);
    const head = await server.head();
    await committer(event, context);

    expect(taskTokens.answers.map((answer) => answer.output)).toEqual([
      { commit: head, status: 'committed', previousTag: 'v2.1.5', previousDigest: null },
      { commit: head, status: 'unchanged', previousTag: 'v2.1.6', previousDigest: null },
    ]);
  });

  it('runs deployed: config from SHIPLANE_CONFIG, token from its reference, answers through Step Functions', async () => {
    server = await startItdoGitHub();
    const sfn = mockClient(SFNClient);
    const request = imageRequest('backend', 'v2.1.6', { token: 'sfn-token' });
    sfn
      .on(SendTaskSuccessCommand)
      .resolves({})
      .on(SendTaskFailureCommand)
      .resolves({})
      .on(DescribeExecutionCommand)
      .resolves({
        status: 'RUNNING',
        input: JSON.stringify({ release: request.change.kind === 'image' ? request.change.release : null }),
      });
    serveHistory(
      sfn,
      new Map([
        [
          `${EXECUTION_PREFIX}${request.execution}`,
          new RunHistory(release('backend', 'v2.1.6')).commit('Staging · Commit new tag', request).events(),
        ],
      ]),
    );
    process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
    process.env[CONFIG_ENV] = serializeConfigInput({
      gitops: {
        repository: REPOSITORY,
        branch: 'main',
        github: { apiUrl: server.url, token: 'env:TEST_COMMITTER_GITHUB_TOKEN' },
      },
      argocd: { url: 'https://argocd.example', token: 'env:TEST_ARGOCD' },
      slack: {
        channel: 'C0DEPLOYS1',
        botToken: 'env:TEST_SLACK_BOT',
        signingSecret: 'env:TEST_SLACK_SIGNING',
      },
      apps: { backend: { ecrRepository: 'itdo-erp/backend', image: 'itdo-erp/backend' } },
      stages: [{ name: 'staging', file: STAGING, argocdApp: 'itdo-erp-staging' }],
    });
    process.env.TEST_COMMITTER_GITHUB_TOKEN = 'ghp_committer_test_token';
    try {
      const response = await handler(sqsEvent([request]), context);

      expect(response).toEqual({ batchItemFailures: [] });
      expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
        executionArn: `${EXECUTION_PREFIX}${request.execution}`,
      });
      expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toMatchObject({
        executionArn: `${EXECUTION_PREFIX}${request.execution}`,
        reverseOrder: true,
        includeExecutionData: true,
      });
      const calls = sfn.commandCalls(SendTaskSuccessCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input.taskToken).toBe('sfn-token');
      expect(JSON.parse(calls[0]?.args[0].input.output ?? '{}')).toEqual({
        commit: await server.head(),
        status: 'committed',
        previousTag: 'v2.1.5',
        previousDigest: null,
      });
    } finally {
      sfn.restore();
      delete process.env[CONFIG_ENV];
      delete process.env.TEST_COMMITTER_GITHUB_TOKEN;
      delete process.env.STATE_MACHINE_ARN;
    }
  });
});

describe('committer handler: only real runs write', () => {
  it('refuses a forged image change without task token or execution, writing nothing and alerting', async () => {
    const { server, taskTokens, committer, runs, alerts } = await setUp();
    const before = await server.head();
    const { taskToken: _token, execution: _execution, ...forged } = imageRequest('backend', 'v9.9.9');

    const response = await committer(sqsEvent([forged as CommitRequest]), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(await server.head()).toBe(before);
    expect(taskTokens.answers).toEqual([]);
    expect(runs.lookups).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.message).toContain(
      'taskToken: an image change needs the task token of the run that waits for it; execution: an image change needs the execution name of the run that waits for it',
    );
  });

  it('refuses a change whose run promotes another tag or digest, fails that run and commits the rest', async () => {
    const { server, taskTokens, committer, alerts } = await setUp();
    const before = await server.head();
    const approved = imageRequest('backend', 'v2.1.6', { token: 't-approved' });
    const otherTag = { ...imageRequest('backend', 'v2.2.0', { token: 't-other-tag' }) };
    const otherDigest = imageRequest('frontend', 'v1.8.3', { token: 't-other-digest', hex: 'b' });
    // Both messages name real, RUNNING runs, but of other releases than they write.
    runs.running(imageRequest('backend', 'v2.1.5'));
    runs.runs.set(otherTag.execution!, runs.runs.get(imageRequest('backend', 'v2.1.5').execution!)!);
    runs.runs.set(otherDigest.execution!, {
      status: 'RUNNING',
      input: { release: release('frontend', 'v1.8.3', 'c') },
    });

    const response = await committer(sqsEvent([otherTag, approved, otherDigest]), context);

    // Refused changes are handled (dropped), not redelivered: asking again would get the same answer.
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await server.git('rev-list', '--count', `${before}..main`)).trim()).toBe('1');
    const images = parse((await server.readFile(STAGING))!).images as { newTag: string }[];
    expect(images.map((image) => image.newTag)).toEqual(['v2.1.6', 'v1.8.2']);
    const answers = byToken(taskTokens.answers);
    expect(answers['t-approved']?.output).toMatchObject({ status: 'committed' });
    expect(answers['t-other-tag']).toEqual({
      token: 't-other-tag',
      error: 'Shiplane.CommitFailed',
      cause: `the commit request was refused: run ${otherTag.execution} promotes backend v2.1.5 (itdo-erp/backend@sha256:${'a'.repeat(64)}), but the change writes backend v2.2.0 (itdo-erp/backend@sha256:${'a'.repeat(64)}) (tag differ)`,
    });
    expect(answers['t-other-digest']?.cause).toContain('(digest differ)');
    expect(alerts.map((alert) => alert.subject)).toEqual([
      'Shiplane refused a commit request',
      'Shiplane refused a commit request',
    ]);
    expect(alerts[0]?.message).toContain(`Execution: ${otherTag.execution}`);
    expect(JSON.stringify(alerts)).not.toContain('t-other');
  });

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED', 'SUCCEEDED'])(
    'skips a change whose run is %s: nothing written, nobody answered, not redelivered, alerted',
    async (status) => {
      const { server, taskTokens, committer, runs, alerts } = await setUp();
      const before = await server.head();
      const stale = imageRequest('backend', 'v2.1.6', { token: 't-stale' });
      runs.runs.set(stale.execution!, { status, input: { release: release('backend', 'v2.1.6') } });

      const response = await committer(sqsEvent([stale]), context);

      expect(response).toEqual({ batchItemFailures: [] });
      expect(await server.head()).toBe(before);
      expect(taskTokens.answers).toEqual([]);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.message).toContain(`run ${stale.execution} is ${status}, no longer RUNNING`);
    },
  );

  it('refuses a change that names no run at all', async () => {
    const { server, committer, runs, alerts } = await setUp();
    const before = await server.head();
    const forged = { ...imageRequest('backend', 'v2.1.6'), execution: 'backend-v2.1.6-000000000000' };
    const event = sqsEvent([forged]);
    runs.runs.delete(forged.execution);

    const response = await committer(event, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await server.head()).toBe(before);
    expect(alerts[0]?.message).toContain('no promotion run is named backend-v2.1.6-000000000000');
  });

  it('hands the change back to SQS when the run cannot be looked up now', async () => {
    const { server, committer } = await setUp();
    const before = await server.head();
    const request = imageRequest('backend', 'v2.1.6', { token: 't' });
    runs.describe = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };

    const response = await committer(sqsEvent([request]), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(await server.head()).toBe(before);
  });

  it('describes each run and reads its history once per batch through Step Functions, however many changes name it', async () => {
    server = await startItdoGitHub();
    const before = await server.head();
    const sfn = mockClient(SFNClient);
    const taskTokens = recordingTaskTokens();
    const alerts: Alert[] = [];
    const staging = imageRequest('backend', 'v2.1.6', { token: 't-staging' });
    const frontend = imageRequest('frontend', 'v1.8.3', { token: 't-frontend' });
    // Names backend's run, which waits for its staging commit, not for production.
    const production = imageRequest('backend', 'v2.1.6', { token: 't-production', stage: 'production' });
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
      const app = executionArn.includes(':backend-') ? 'backend' : 'frontend';
      const tag = app === 'backend' ? 'v2.1.6' : 'v1.8.3';
      return { status: 'RUNNING', input: JSON.stringify({ release: release(app, tag) }) };
    });
    serveHistory(
      sfn,
      new Map(
        [staging, frontend].map((request) => [
          `${EXECUTION_PREFIX}${request.execution}`,
          new RunHistory(request.change.kind === 'image' ? request.change.release : release('x', 'v0'))
            .commit('Staging · Commit new tag', request)
            .events(),
        ]),
      ),
    );
    try {
      const committer = createCommitterHandler({
        github: await connect(server),
        taskTokens,
        runs: stepFunctionsRunStatus(new SFNClient({}), STATE_MACHINE_ARN),
        commit: { sleep: async () => undefined },
        alert: async (alert) => {
          alerts.push(alert);
        },
      });

      const response = await committer(sqsEvent([staging, production, frontend]), context);

      expect(response).toEqual({ batchItemFailures: [] });
      const arns = [
        `${EXECUTION_PREFIX}${staging.execution}`,
        `${EXECUTION_PREFIX}${frontend.execution}`,
      ].sort();
      const arnsOf = (calls: { args: [{ input: { executionArn?: string | undefined } }] }[]) =>
        calls.map((call) => call.args[0].input.executionArn).sort();
      expect(arnsOf(sfn.commandCalls(DescribeExecutionCommand))).toEqual(arns);
      expect(arnsOf(sfn.commandCalls(GetExecutionHistoryCommand))).toEqual(arns);
      expect(byToken(taskTokens.answers)).toEqual({
        't-staging': { token: 't-staging', output: expect.objectContaining({ status: 'committed' }) },
        't-frontend': { token: 't-frontend', output: expect.objectContaining({ status: 'committed' }) },
      });
      expect((await server.git('rev-list', '--count', `${before}..main`)).trim()).toBe('1');
      expect(await server.readFile(PRODUCTION)).toBe(await server.readFile(PRODUCTION, before));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.message).toContain('Promote backend v2.1.6 to production');
      expect(alerts[0]?.message).toContain(`the task token is not the one run ${staging.execution} waits on`);
      expect(JSON.stringify(alerts)).not.toContain('t-production');
    } finally {
      sfn.restore();
    }
  });

  it('counts every refusal and invalid request in the metrics the stack alarms on; the deployed committer publishes nothing itself', async () => {
    server = await startItdoGitHub();
    const before = await server.head();
    const sfn = mockClient(SFNClient);
    const stale = imageRequest('backend', 'v2.1.6', { token: 'AAAA-secret-task-token' });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'TIMED_OUT', input: JSON.stringify({ release: release('backend', 'v2.1.6') }) });
    const env = {
      STATE_MACHINE_ARN,
      TEST_COMMITTER_GITHUB_TOKEN: 'ghp_committer_test_token',
      [CONFIG_ENV]: serializeConfigInput({
        gitops: {
          repository: REPOSITORY,
          branch: 'main',
          github: { apiUrl: server.url, token: 'env:TEST_COMMITTER_GITHUB_TOKEN' },
        },
        argocd: { url: 'https://argocd.example', token: 'env:TEST_ARGOCD' },
        slack: {
          channel: 'C0DEPLOYS1',
          botToken: 'env:TEST_SLACK_BOT',
          signingSecret: 'env:TEST_SLACK_SIGNING',
        },
        apps: { backend: { ecrRepository: 'itdo-erp/backend', image: 'itdo-erp/backend' } },
        stages: [{ name: 'staging', file: STAGING, argocdApp: 'itdo-erp-staging' }],
      }),
    };
    const added = vi.spyOn(metrics, 'addMetric');
    try {
      const deps = deployedCommitter(env);
      // No alert callback (and no SNS client in the bundle): the alarms on these metrics are the alert.
      expect((await deps()).alert).toBeUndefined();
      const committer = createCommitterHandler(deps);

      const response = await committer(sqsEvent([stale, '{"not": "a commit request"'], Date.now()), context);

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-2' }] });
      expect(await server.head()).toBe(before);
      const counted = Object.fromEntries(added.mock.calls.map(([name, , value]) => [name, value]));
      expect(counted).toMatchObject({ ChangesRefused: 1, CommitRequestsInvalid: 1, CommitsWritten: 0 });
    } finally {
      added.mockRestore();
      sfn.restore();
    }
  });

  it('skips a change whose run stopped waiting for it (commit task timed out), even if the run still runs', async () => {
    const { server, taskTokens, committer, runs } = await setUp({ taskTimeoutMs: 900_000 });
    const before = await server.head();

    const response = await committer(
      sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't-old' })], Date.now() - 900_000),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await server.head()).toBe(before);
    expect(taskTokens.answers).toEqual([]);
    expect(runs.lookups).toEqual([]);
  });
});

describe('committer handler: a manual rollback moves a stage back only for the run that asks for it', () => {
  const tagOf = async (git: GitHubServer, app: string) =>
    (parse((await git.readFile(STAGING))!).images as { name: string; newTag: string }[]).find(
      (image) => image.name === `itdo-erp/${app}`,
    )?.newTag;

  it("commits the rollback run's change back to an older tag, with who and why in the trailers", async () => {
    // Prepare: staging runs backend v2.1.5; the rollback run goes back to v2.1.4.
    const { server, taskTokens, committer, runs } = await setUp();
    const { request, input } = manualRollbackRequest('backend', 'v2.1.4', {
      hex: '4',
      from: { tag: 'v2.1.5' },
      reason: 'login loops since v2.1.5',
    });
    const event = sqsEvent([request]);
    runs.runs.set(request.execution!, { status: 'RUNNING', input });

    // Act
    const response = await committer(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await tagOf(server, 'backend')).toBe('v2.1.4');
    expect(taskTokens.answers[0]?.output).toMatchObject({ status: 'committed', previousTag: 'v2.1.5' });
    expect(await server.git('log', '-1', '--format=%B', 'main')).toBe(
      [
        'Roll back backend v2.1.5 → v2.1.4 in staging',
        '',
        `Shiplane-Execution: ${request.execution}`,
        'Shiplane-Rollback: manual',
        'Shiplane-Rollback-Reason: login loops since v2.1.5',
        'Shiplane-Rollback-By: arn:aws:iam::123456789012:user/aiko',
        '',
        '',
      ].join('\n'),
    );
  });

  it('refuses a rollback-marked change from a normal run: nothing written, run failed, alerted', async () => {
    // Prepare: a promotion run of backend v2.1.4 (its input has no rollback) sends a change marked as a manual rollback.
    const { server, taskTokens, committer, alerts } = await setUp();
    const before = await server.head();
    const { request: forged } = manualRollbackRequest('backend', 'v2.1.4', { from: { tag: 'v2.1.5' } });
    const normal = { ...forged, execution: 'backend-v2.1.4-444444444444', taskToken: 't-forged' };
    const event = sqsEvent([normal]);

    // Act
    const response = await committer(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await server.head()).toBe(before);
    expect(taskTokens.answers).toEqual([
      {
        token: 't-forged',
        error: 'Shiplane.CommitFailed',
        cause:
          'the commit request was refused: run backend-v2.1.4-444444444444 is not a manual rollback, but sent a change marked as one (backend v2.1.4 in staging)',
      },
    ]);
    expect(alerts.map((alert) => alert.subject)).toEqual(['Shiplane refused a commit request']);
  });

  it("refuses a rollback run's change that is not the rollback its input asks for: another stage, another reason or no mark", async () => {
    const { server, taskTokens, committer, runs } = await setUp();
    const before = await server.head();
    const { request, input } = manualRollbackRequest('backend', 'v2.1.4', { from: { tag: 'v2.1.5' } });
    if (request.change.kind !== 'image') throw new Error('image change');
    const { manualRollback: _mark, ...unmarkedChange } = request.change;
    // Each variant carries the token the run really waits on, so the refusal is answered to the run.
    const variants: CommitRequest[] = [
      {
        ...request,
        change: {
          ...request.change,
          stage: 'production',
          file: 'environments/production/kustomization.yaml',
        },
      },
      {
        ...request,
        change: { ...request.change, manualRollback: { ...input.rollback!, reason: 'something else' } },
      },
      // Without the mark and saying it is a promotion, as a consistent forgery would.
      { ...request, change: { ...unmarkedChange, edit: 'promotion' } },
    ];
    runs.runs.set(request.execution!, { status: 'RUNNING', input });
    runs.pending.set(request.execution!, { kind: 'rendered', request });

    for (const variant of variants) await committer(sqsEvent([variant]), context);

    expect(await server.head()).toBe(before);
    const causes = taskTokens.answers.map((answer) => answer.cause);
    expect(causes).toHaveLength(3);
    expect(causes[0]).toContain(
      'is the manual rollback of staging and may change nothing else, but sent a change to production',
    );
    expect(causes[1]).toContain('the change carries another rollback');
    expect(causes[2]).toContain('may write only that rollback, but sent a change not marked as it');
  });
});

describe('committer handler: every wait fits in the time left', () => {
  /** A context whose function has `ms` left. */
  const leaving = (ms: number): Context => ({ ...context, getRemainingTimeInMillis: () => ms });

  it('refuses a secondary rate limit wait longer than the function has left and hands the batch back untouched', async () => {
    // Real seconds: honouring the 50 s retry-after would outlast this test.
    const { server, taskTokens, committer } = await setUp({ rateLimitSecondMs: 1000 });
    const before = await server.head();
    server.inject({ kind: 'secondary-rate-limit', method: 'POST', path: '/git/commits', retryAfter: 50 });
    const started = Date.now();

    const response = await committer(
      sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't-1' }), imageRequest('frontend', 'v1.8.3')]),
      leaving(55_000),
    );

    expect(Date.now() - started).toBeLessThan(15_000);
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-2' }],
    });
    expect(taskTokens.answers).toEqual([]);
    expect(await server.head()).toBe(before);
  });

  it('refuses a primary rate limit wait that would end after the run stops waiting for its commit', async () => {
    const { server, committer } = await setUp({ rateLimitSecondMs: 1000, taskTimeoutMs: 900_000 });
    const before = await server.head();
    server.inject({ kind: 'rate-limit', path: '/git/trees', retryAfter: 25 });
    const started = Date.now();

    // The function has a minute, but the run stops waiting in 25 s (10 s of them kept to answer it).
    const response = await committer(
      sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't-1' })], Date.now() - 875_000),
      leaving(60_000),
    );

    expect(Date.now() - started).toBeLessThan(15_000);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(await server.head()).toBe(before);
  });

  it('waits out a rate limit that fits and commits', async () => {
    const { server, taskTokens, committer } = await setUp({ rateLimitSecondMs: 1000 });
    server.inject({ kind: 'secondary-rate-limit', method: 'POST', path: '/git/commits', retryAfter: 1 });

    const response = await committer(
      sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't-1' })]),
      leaving(45_000),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(taskTokens.answers[0]?.output).toMatchObject({ status: 'committed', commit: await server.head() });
  });

  it('starts no GitHub request once the time is up', async () => {
    const { server, committer } = await setUp();
    const before = await server.head();
    server.resetStats();

    const response = await committer(
      sqsEvent([imageRequest('backend', 'v2.1.6', { token: 't-1' })]),
      leaving(5_000),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(server.stats.total).toBe(0);
    expect(await server.head()).toBe(before);
  });
});

describe('committer handler: a secrets file holds only what secret sync renders', () => {
  it('refuses a secrets file that also carries a ClusterRoleBinding: nothing written, alerted', async () => {
    const { server, committer, alerts } = await setUp();
    const before = await server.head();
    const escalation = `${RENDERED_SECRETS}---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pwned}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
`;

    const response = await committer(
      sqsEvent([secretsFileRequest(escalation), imageRequest('backend', 'v2.1.6', { token: 't' })]),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(await server.readFile(SECRETS_FILE)).toBeNull();
    expect((await server.git('rev-list', '--count', `${before}..main`)).trim()).toBe('1');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.message).toContain(
      `${SECRETS_FILE} document 2 (ClusterRoleBinding) is not an external-secrets.io/v1 ExternalSecret as secret sync writes it`,
    );
  });

  it('refuses a secrets file of another kind, and still deletes the file when content is null', async () => {
    const { server, committer } = await setUp();

    const refused = await committer(
      sqsEvent([secretsFileRequest('kind: ConfigMap\nmetadata: {name: x}\n')]),
      context,
    );
    await committer(sqsEvent([secretsFileRequest(RENDERED_SECRETS)]), context);
    const deleted = await committer(sqsEvent([secretsFileRequest(null)]), context);

    expect(refused).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(deleted).toEqual({ batchItemFailures: [] });
    expect(await server.readFile(SECRETS_FILE)).toBeNull();
  });
});
