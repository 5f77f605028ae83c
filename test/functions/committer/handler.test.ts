import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createCommitterHandler, handler } from '../../../functions/committer/handler.js';
import type { GitHubServer } from '../../../local/github-server/index.js';
import { CONFIG_ENV, serializeConfigInput } from '../../../shared/config/runtime.js';
import { type CommitRequest, commitResultSchema } from '../../../shared/contracts/tasks.js';
import { type AcceptChange, configuredChanges } from '../../../shared/gitops/allowed-changes.js';
import {
  connect,
  imageRequest,
  REPOSITORY,
  type RecordedAnswer,
  recordingTaskTokens,
  STAGING,
  startItdoGitHub,
} from '../../shared/gitops/support.js';

const RECORD = JSON.parse(
  readFileSync(new URL('../../fixtures/gitops/sqs-fifo-record.json', import.meta.url), 'utf8'),
) as SQSRecord;

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

/** An SQS FIFO batch as Lambda delivers it: one record per body, in order. */
function sqsEvent(bodies: (CommitRequest | string)[]): SQSEvent {
  return {
    Records: bodies.map((body, index) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return {
        ...RECORD,
        messageId: `msg-${index + 1}`,
        body: text,
        md5OfBody: createHash('md5').update(text).digest('hex'),
        attributes: { ...RECORD.attributes, SequenceNumber: String(18891049683529516288n + BigInt(index)) },
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
  options: { refuse?: Record<string, string>; token?: string; retries?: number; accept?: AcceptChange } = {},
) {
  server = await startItdoGitHub();
  const taskTokens = recordingTaskTokens(options.refuse);
  const github = await connect(server, {
    ...(options.token ? { token: options.token } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
  });
  const committer = createCommitterHandler({
    github,
    taskTokens,
    commit: { sleep: async () => undefined },
    ...(options.accept ? { accept: options.accept } : {}),
  });
  return { server, taskTokens, committer };
}

const byToken = (answers: RecordedAnswer[]) =>
  Object.fromEntries(answers.map((answer) => [answer.token, answer]));

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
          /^Promote backend v2\.1\.6 to staging in itdo-erp\/itdo-erp-infrastructure \(branch main\) failed: GitHub rejected the credentials .*\(401 Bad credentials\): check the token in secret:shiplane\/github-token$/,
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
        stages: [{ name: 'staging', file: `./${STAGING}` }],
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
      cause: expect.stringContaining(".github/workflows/deploy.yaml is not a file the config's secrets name"),
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
    const sync: CommitRequest = {
      repository: REPOSITORY,
      branch: 'main',
      change: {
        kind: 'file',
        stage: 'production',
        file: 'environments/production/external-secrets.yaml',
        content: 'kind: ExternalSecret\n',
        summary: 'Sync external secrets for production (1 changed)',
      },
    };

    const response = await committer(sqsEvent([sync]), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await server.readFile('environments/production/external-secrets.yaml')).toBe(
      'kind: ExternalSecret\n',
    );
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
    sfn.on(SendTaskSuccessCommand).resolves({}).on(SendTaskFailureCommand).resolves({});
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
      const response = await handler(
        sqsEvent([imageRequest('backend', 'v2.1.6', { token: 'sfn-token' })]),
        context,
      );

      expect(response).toEqual({ batchItemFailures: [] });
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
    }
  });
});
