import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createArgoCdHealthHandler, handler } from '../../../functions/argocd-health/handler.js';
import { type ArgoCdServer, startArgoCdServer } from '../../../local/stand-ins/argocd/server.js';
import { createArgoCdClient } from '../../../shared/adapters/argocd/client.js';
import { createSecretResolver } from '../../../shared/adapters/aws/secrets.js';
import { CONFIG_ENV, serializeConfigInput } from '../../../shared/config/runtime.js';
import { type HealthCheckInput, healthCheckResultSchema } from '../../../shared/contracts/tasks.js';
import { InvalidInputError } from '../../../shared/errors.js';
import { GitOpsBranch, sha } from '../../fixtures/argocd/gitops-branch.js';

const TOKEN = 'argocd-test-token';

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'shiplane-argocd-health',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shiplane-argocd-health',
  memoryLimitInMB: '256',
  awsRequestId: '5d1a7c3e-9b2f-4e61-8a0d-3f4c5b6a7e81',
  logGroupName: '/aws/lambda/shiplane-argocd-health',
  logStreamName: '2025/06/03/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

let standIn: ArgoCdServer | undefined;
let github: Server | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
  if (github) {
    github.closeAllConnections();
    await new Promise((resolve) => github!.close(resolve));
    github = undefined;
  }
});

async function setUp() {
  const branch = new GitOpsBranch(sha('1'), 'v1.0.0');
  standIn = await startArgoCdServer({
    token: TOKEN,
    apps: [{ name: 'itdo-erp-staging', project: 'itdo-erp', path: 'environments/staging', automated: true }],
    resolveHead: branch.resolveHead,
    readTag: branch.readTag,
  });
  return branch;
}

function event(commit: string, attempt = 1): HealthCheckInput {
  return {
    execution: 'backend-v1-4-2-0123456789ab',
    stage: 'staging',
    argocdApp: 'itdo-erp-staging',
    argocdProject: 'itdo-erp',
    sync: false,
    commit,
    release: {
      app: 'backend',
      ecrRepository: 'itdo-erp/backend',
      image: 'itdo-erp/backend',
      tag: 'v1.4.2',
      digest: `sha256:${'ab'.repeat(32)}`,
      registryId: '123456789012',
      region: 'eu-west-1',
      pushedAt: '2025-06-03T10:00:00Z',
    },
    file: 'environments/staging/kustomization.yaml',
    pinDigest: false,
    attempt,
    maxAttempts: 90,
  };
}

describe('argocd-health handler', () => {
  it('polls the stand-in until our commit is healthy, returning HealthCheckResult each time', async () => {
    const branch = await setUp();
    const commit = branch.push(sha('2'), 'v1.4.2');
    const check = createArgoCdHealthHandler({
      argocd: createArgoCdClient({
        url: standIn!.url,
        token: { source: 'env', name: 'ARGOCD_TOKEN' },
        resolveSecret: createSecretResolver({ env: { ARGOCD_TOKEN: TOKEN } }),
      }),
      ancestry: branch.ancestry,
      files: branch.files,
    });

    const statuses: string[] = [];
    let last: unknown;
    for (let attempt = 1; attempt <= 10 && statuses.at(-1) !== 'healthy'; attempt++) {
      last = await check(event(commit, attempt), context);
      statuses.push(healthCheckResultSchema.parse(last).status);
    }

    expect(statuses).toEqual([
      'progressing',
      'progressing',
      'progressing',
      'progressing',
      'progressing',
      'healthy',
    ]);
    expect(last).toMatchObject({
      revision: commit,
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      attempt: 6,
    });
  });

  it('refuses input that is not a HealthCheckInput, naming the field, before calling Argo CD', async () => {
    const branch = await setUp();
    const check = createArgoCdHealthHandler({
      argocd: createArgoCdClient({
        url: standIn!.url,
        token: { source: 'env', name: 'ARGOCD_TOKEN' },
        resolveSecret: createSecretResolver({ env: { ARGOCD_TOKEN: TOKEN } }),
      }),
      ancestry: branch.ancestry,
      files: branch.files,
    });

    const error = await check({ ...event(sha('2')), commit: 'main' }, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(
      'argocd-health input is not valid: commit: expected a 40-character commit SHA',
    );
    expect(standIn!.requests).toEqual([]);
  });

  it('builds its clients from SHIPLANE_CONFIG once in the deployed handler, asks GitHub once per revision, and fails terminally on an unknown app', async () => {
    const branch = await setUp();
    const ours = sha('2');
    branch.push(ours, 'v1.4.2');
    const later = branch.push(sha('3'), 'v1.4.2');
    // GitHub's compare endpoint: the deployed handler asks it whether the later head contains ours;
    // then the contents endpoint, for what the stage's file pins at that head.
    const requested: string[] = [];
    const kustomization = 'images:\n  - name: itdo-erp/backend\n    newTag: v1.4.2\n';
    github = createServer((req, res) => {
      requested.push(req.url ?? '');
      expect(req.headers.authorization).toBe('token ghs_handler_test');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('/contents/')) {
        res.end(
          JSON.stringify({
            type: 'file',
            encoding: 'base64',
            name: 'kustomization.yaml',
            path: 'environments/staging/kustomization.yaml',
            sha: '5'.repeat(40),
            content: Buffer.from(kustomization).toString('base64'),
          }),
        );
        return;
      }
      res.end(
        JSON.stringify({
          status: 'ahead',
          ahead_by: 1,
          behind_by: 0,
          total_commits: 1,
          commits: [],
          files: [],
        }),
      );
    });
    await new Promise<void>((resolve) => github!.listen(0, '127.0.0.1', resolve));
    process.env[CONFIG_ENV] = serializeConfigInput({
      gitops: {
        repository: 'itdo-erp/itdo-erp-infrastructure',
        github: {
          apiUrl: `http://127.0.0.1:${(github.address() as AddressInfo).port}`,
          token: 'env:TEST_GITHUB_TOKEN',
        },
      },
      argocd: { url: standIn!.url, token: 'env:TEST_ARGOCD_TOKEN' },
      slack: {
        channel: 'C0DEPLOYS1',
        botToken: 'env:TEST_SLACK_BOT',
        signingSecret: 'env:TEST_SLACK_SIGNING',
      },
      apps: { backend: { ecrRepository: 'itdo-erp/backend', image: 'itdo-erp/backend' } },
      stages: [
        { name: 'staging', file: 'environments/staging/kustomization.yaml', argocdApp: 'itdo-erp-staging' },
      ],
    });
    process.env.TEST_GITHUB_TOKEN = 'ghs_handler_test';
    process.env.TEST_ARGOCD_TOKEN = TOKEN;
    try {
      const result = await handler(event(ours), context);
      // A warm container asks GitHub nothing new about a revision it has seen.
      const again = await handler(event(ours, 2), context);
      const missing = await handler({ ...event(ours), argocdApp: 'itdo-erp-stagign' }, context).catch(
        (e: unknown) => e,
      );

      expect(result).toMatchObject({ status: 'progressing', revision: later });
      expect(again).toMatchObject({ status: 'progressing', revision: later, attempt: 2 });
      expect(requested).toEqual([
        `/repos/itdo-erp/itdo-erp-infrastructure/compare/${ours}...${later}?per_page=1`,
        `/repos/itdo-erp/itdo-erp-infrastructure/contents/environments%2Fstaging%2Fkustomization.yaml?ref=${later}`,
      ]);
      expect((missing as Error).name).toBe('ArgoCdAppNotFoundError');
    } finally {
      delete process.env[CONFIG_ENV];
      delete process.env.TEST_GITHUB_TOKEN;
      delete process.env.TEST_ARGOCD_TOKEN;
    }
  });
});
