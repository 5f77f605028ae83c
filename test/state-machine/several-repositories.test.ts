/**
 * Several repositories, end to end on the local engine: the synthesized promotion state machine runs
 * with the real committer against three GitHub stand-ins behind one API address. Staging lives in the
 * infrastructure repository, production in a production repository, and backend's production tag in a
 * charts repository's Helm values (config/tag-location.ts). Each commit must land in the repository,
 * branch and file the config names, in that repository#branch's message group, and every other byte
 * of every repository must stay as it was.
 */
import { readFileSync } from 'node:fs';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createCommitterHandler } from '../../functions/committer/handler.js';
import { synthesizeTemplate } from '../../infra/synth.js';
import type { CfnTemplate } from '../../local/engine/definition.js';
import { createLocalEngine, type LocalEngine } from '../../local/engine/engine.js';
import type { LocalHandler } from '../../local/engine/lambda.js';
import { engineRunStatus } from '../../local/engine/run-status.js';
import type { GitHubServer } from '../../local/stand-ins/github/index.js';
import type { Config } from '../../shared/config/schema.js';
import { type RunInput, runInputSchema } from '../../shared/contracts/tasks.js';
import { configuredChanges } from '../../shared/domain/allowed-changes.js';
import type { Alert } from '../../shared/domain/release-thread.js';
import {
  BACKEND_VALUES,
  backendValues,
  CHARTS,
  FRONTEND_VALUES,
  frontendValues,
  INFRA,
  PROD_REPO,
  productionKustomization,
  type SeveralRepositories,
  severalRepositoriesConfig,
  startSeveralRepositories,
} from '../shared/steps/commit/several-repositories.js';
import { connect, PRODUCTION, STAGING } from '../shared/steps/commit/support.js';
import { approval, scriptedHandlers } from './scripted-handlers.js';

const backend = runInputSchema.parse(
  JSON.parse(readFileSync(new URL('./fixtures/run-input.json', import.meta.url), 'utf8')),
) as RunInput;
const frontend: RunInput = {
  release: {
    ...backend.release,
    app: 'frontend',
    ecrRepository: 'itdo-erp/frontend',
    image: 'itdo-erp/frontend',
    tag: 'v1.9.0',
    digest: `sha256:${'9'.repeat(64)}`,
  },
};

let config: Config;
let template: CfnTemplate;
beforeAll(async () => {
  config = severalRepositoriesConfig();
  template = synthesizeTemplate(config) as CfnTemplate;
}, 120_000);

let repositories: SeveralRepositories | undefined;
const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  await repositories?.close();
  repositories = undefined;
});

async function engineWithCommitter() {
  repositories = await startSeveralRepositories();
  const { infra, production, charts, front } = repositories;
  const github = await connect(infra, { apiUrl: front.url });
  let engine: LocalEngine | undefined;
  const running = () => engine as LocalEngine;
  const alerts: Alert[] = [];
  const groups: string[] = [];
  const { handlers, recorded } = scriptedHandlers({}, running);
  const committer = createCommitterHandler({
    github,
    taskTokens: {
      succeed: (token, output) => running().taskTokens.succeed(token, output),
      fail: (token, error, cause) => running().taskTokens.fail(token, error, cause),
    },
    accept: configuredChanges(config),
    runs: engineRunStatus(running),
    alert: async (alert) => {
      alerts.push(alert);
    },
    commit: { sleep: async () => undefined },
  }) as LocalHandler;
  const recordingCommitter: LocalHandler = async (event, context) => {
    for (const record of (event as SQSEvent).Records) groups.push(record.attributes.MessageGroupId ?? '');
    return committer(event, context);
  };
  engine = createLocalEngine({
    template,
    handlers: { ...handlers, committer: recordingCommitter },
    timing: { waitSeconds: 0, retryIntervalMs: 0 },
  });
  engines.push(engine);
  return { engine, recorded, alerts, groups, infra, production, charts };
}

/** Runs a release through staging and the approved production commit. */
async function promote(
  engine: LocalEngine,
  recorded: Awaited<ReturnType<typeof engineWithCommitter>>['recorded'],
  input: RunInput,
  execution: string,
) {
  const done = engine.start(input, execution).done;
  const request = await recorded.approvals.next();
  await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
  return done;
}

const changedFiles = async (server: GitHubServer, from: string) =>
  (await server.git('diff', '--name-only', from, await server.head())).split('\n').filter(Boolean);

const images = (text: string | null) =>
  (parse(text ?? '').images as Array<{ name: string; newTag: string; digest?: string }>).map(
    ({ name, newTag, digest }) => ({ name, newTag, digest }),
  );

describe('a promotion across several repositories', () => {
  it('commits each stage where the config puts the app’s tag, and nothing anywhere else', async () => {
    const { engine, recorded, alerts, groups, infra, production, charts } = await engineWithCommitter();
    const before = {
      infra: await infra.head(),
      production: await production.head(),
      charts: await charts.head(),
    };
    const infraProduction = await infra.readFile(PRODUCTION);
    const infraStaging = images(await infra.readFile(STAGING));

    const backendRun = await promote(engine, recorded, backend, 'backend-v2.1.6-4c1f5e2b8a9d');
    expect(backendRun.status).toBe('SUCCEEDED');
    const frontendRun = await promote(engine, recorded, frontend, 'frontend-v1.9.0-999999999999');
    expect(frontendRun.status).toBe('SUCCEEDED');
    expect(alerts).toEqual([]);
    expect(engine.deadLetters()).toEqual([]);

    // One writer per repository#branch: each commit travelled in its place's message group.
    expect(groups).toEqual([`${INFRA}#main`, `${CHARTS}#main`, `${INFRA}#main`, `${PROD_REPO}#main`]);

    // Staging: both tags in the infrastructure repository's staging file, and only there.
    expect(await changedFiles(infra, before.infra)).toEqual([STAGING]);
    expect(await infra.readFile(PRODUCTION)).toBe(infraProduction);
    const staging = images(await infra.readFile(STAGING));
    expect(staging.find((image) => image.name === 'itdo-erp/backend')?.newTag).toBe('v2.1.6');
    expect(staging.find((image) => image.name === 'itdo-erp/frontend')?.newTag).toBe('v1.9.0');
    expect(staging.length).toBe(infraStaging.length);

    // Backend's production tag: the charts repository's Helm values, those two lines and nothing else.
    expect(await changedFiles(charts, before.charts)).toEqual([BACKEND_VALUES]);
    expect(await charts.readFile(BACKEND_VALUES)).toBe(
      backendValues
        .replace('tag: v2.1.4 # promoted by Shiplane', 'tag: v2.1.6 # promoted by Shiplane')
        .replace(`sha256:${'1'.repeat(64)}`, backend.release.digest),
    );
    expect(await charts.readFile(FRONTEND_VALUES)).toBe(frontendValues);

    // Frontend's production tag: the production repository's kustomization; backend's entry untouched.
    expect(await changedFiles(production, before.production)).toEqual([PRODUCTION]);
    expect(images(await production.readFile(PRODUCTION))).toEqual(
      images(productionKustomization).map((image) =>
        image.name === 'itdo-erp/frontend'
          ? { ...image, newTag: 'v1.9.0', digest: frontend.release.digest }
          : image,
      ),
    );
    expect(await production.readFile('README.md')).toBe('# Production\n');

    // The run's results name the commits each repository has.
    const productionCommits = recorded.notifications
      .filter((n) => n.event === 'committed' && n.stage === 'production')
      .map((n) => (n.detail as { commit: string }).commit);
    expect(productionCommits).toEqual([await charts.head(), await production.head()]);
  }, 180_000);
});
