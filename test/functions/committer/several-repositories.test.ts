/**
 * The committer with several repositories (issue 13): an image change is written only where
 * config/tag-location.ts puts the app's tag in the stage — repository, branch, file and Helm key
 * paths. A change anywhere else (the stage's own place for an app that overrides it, another branch,
 * another file, other keys) fails its run with a reason naming both places, and no repository moves.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createCommitterHandler } from '../../../functions/committer/handler.js';
import type { CommitRequest } from '../../../shared/contracts/tasks.js';
import { configuredChanges } from '../../../shared/domain/allowed-changes.js';
import type { Alert } from '../../../shared/domain/release-thread.js';
import {
  BACKEND_VALUES,
  backendValues,
  CHARTS,
  FRONTEND_VALUES,
  PROD_REPO,
  productionKustomization,
  type SeveralRepositories,
  severalRepositoriesConfig,
  startSeveralRepositories,
} from '../../shared/steps/commit/several-repositories.js';
import {
  connect,
  imageRequest,
  PRODUCTION,
  recordingRuns,
  recordingTaskTokens,
} from '../../shared/steps/commit/support.js';

const RECORD = JSON.parse(
  readFileSync(new URL('../../fixtures/gitops/sqs-fifo-record.json', import.meta.url), 'utf8'),
) as SQSRecord;
const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
const config = severalRepositoriesConfig();

let repositories: SeveralRepositories | undefined;
afterEach(async () => {
  await repositories?.close();
  repositories = undefined;
});

/** A production image change of `app` to `repository`@`branch`, as a run's commit task would send it. */
function production(
  token: string,
  app: string,
  where: { repository: string; branch?: string; file: string; valuesPath?: string; digestPath?: string },
): CommitRequest {
  const request = imageRequest(app, 'v2.1.6', {
    stage: 'production',
    token,
    file: where.file,
    pinDigest: true,
    hex: 'c',
    ...(where.valuesPath ? { valuesPath: where.valuesPath } : {}),
    ...(where.digestPath ? { digestPath: where.digestPath } : {}),
  });
  return {
    ...request,
    execution: `${app}-${token}`,
    repository: where.repository,
    branch: where.branch ?? 'main',
  };
}

function sqsEvent(requests: readonly CommitRequest[]): SQSEvent {
  return {
    Records: requests.map((request, index) => {
      const body = JSON.stringify(request);
      return {
        ...RECORD,
        messageId: `msg-${index + 1}`,
        body,
        md5OfBody: createHash('md5').update(body).digest('hex'),
        attributes: {
          ...RECORD.attributes,
          SentTimestamp: String(Date.now()),
          MessageGroupId: `${request.repository}#${request.branch}`,
          SequenceNumber: String(18891049683529516288n + BigInt(index)),
        },
      };
    }),
  };
}

const CHARTS_PLACE = {
  repository: CHARTS,
  file: BACKEND_VALUES,
  valuesPath: 'image.tag',
  digestPath: 'image.digest',
} as const;

describe('the committer with tags in several repositories', () => {
  it('refuses a change that is not where the config puts the tag, naming both places; nothing moves', async () => {
    repositories = await startSeveralRepositories();
    const { infra, production: prod, charts, front } = repositories;
    const heads = [await infra.head(), await prod.head(), await charts.head()];
    const taskTokens = recordingTaskTokens();
    const runs = recordingRuns();
    const alerts: Alert[] = [];
    const committer = createCommitterHandler({
      github: await connect(infra, { apiUrl: front.url }),
      taskTokens,
      runs,
      accept: configuredChanges(config),
      alert: async (alert) => {
        alerts.push(alert);
      },
      commit: { sleep: async () => undefined },
    });
    const requests = [
      // Backend's production tag at production's own place: the app overrides it to the charts repository.
      production('t-stage-place', 'backend', { repository: PROD_REPO, file: PRODUCTION }),
      production('t-other-branch', 'backend', { ...CHARTS_PLACE, branch: 'release' }),
      production('t-other-file', 'backend', { ...CHARTS_PLACE, file: FRONTEND_VALUES }),
      production('t-other-keys', 'backend', { ...CHARTS_PLACE, valuesPath: 'backend.image.tag' }),
      // Frontend does not override production: its tag lives in the production repository only.
      production('t-frontend-in-charts', 'frontend', {
        repository: CHARTS,
        file: 'charts/frontend/values-production.yaml',
        valuesPath: 'image.tag',
        digestPath: 'image.digest',
      }),
    ];
    runs.running(...requests);

    await committer(sqsEvent(requests), context);

    const causes = Object.fromEntries(
      taskTokens.answers.map((answer) => [answer.token, { error: answer.error, cause: answer.cause }]),
    );
    const refused = (cause: string) => ({
      error: 'Shiplane.CommitFailed',
      cause: expect.stringContaining(cause),
    });
    expect(causes).toEqual({
      't-stage-place': refused(
        "itdo-erp/itdo-erp-production@main is not where the config puts backend's tag in stage production (itdo-erp/itdo-erp-charts@main)",
      ),
      't-other-branch': refused(
        "itdo-erp/itdo-erp-charts@release is not where the config puts backend's tag in stage production (itdo-erp/itdo-erp-charts@main)",
      ),
      't-other-file': refused(
        `${FRONTEND_VALUES} is not the file of stage production in the config (${BACKEND_VALUES} for backend)`,
      ),
      't-other-keys': refused(
        `the Helm key paths of ${BACKEND_VALUES} (backend.image.tag, image.digest) are not the config's for backend in stage production (image.tag, image.digest)`,
      ),
      't-frontend-in-charts': refused(
        "itdo-erp/itdo-erp-charts@main is not where the config puts frontend's tag in stage production (itdo-erp/itdo-erp-production@main)",
      ),
    });
    expect(alerts).toHaveLength(requests.length);
    // No repository moved, and the files are byte for byte as they were.
    expect([await infra.head(), await prod.head(), await charts.head()]).toEqual(heads);
    expect(await charts.readFile(BACKEND_VALUES)).toBe(backendValues);
    expect(await prod.readFile(PRODUCTION)).toBe(productionKustomization);
  });

  it('writes the change that is where the config puts it, in that repository only', async () => {
    repositories = await startSeveralRepositories();
    const { infra, production: prod, charts, front } = repositories;
    const heads = { infra: await infra.head(), production: await prod.head(), charts: await charts.head() };
    const taskTokens = recordingTaskTokens();
    const runs = recordingRuns();
    const committer = createCommitterHandler({
      github: await connect(infra, { apiUrl: front.url }),
      taskTokens,
      runs,
      accept: configuredChanges(config),
      commit: { sleep: async () => undefined },
    });
    const request = production('t-backend', 'backend', CHARTS_PLACE);
    runs.running(request);

    await committer(sqsEvent([request]), context);

    expect(taskTokens.answers).toEqual([
      {
        token: 't-backend',
        output: expect.objectContaining({ status: 'committed', commit: await charts.head() }),
      },
    ]);
    expect(await charts.git('diff', '--name-only', heads.charts, await charts.head())).toBe(
      `${BACKEND_VALUES}\n`,
    );
    expect(await infra.head()).toBe(heads.infra);
    expect(await prod.head()).toBe(heads.production);
  });
});
