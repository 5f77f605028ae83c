/**
 * The committer's run check on the local engine's path: the synthesized promotion state machine (ITDO
 * ERP config) runs with the real committer (GitHub stand-in, the config's targets, the engine's own
 * runs) and scripted Argo CD, approval and notify handlers. A message the run did not send — put on
 * the commit queue by another sender — is refused, alerted and logged, and the run goes on.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { createCommitterHandler } from '../../functions/committer/handler.js';
import { synthesizeTemplate } from '../../infra/synth.js';
import type { CfnTemplate } from '../../local/engine/definition.js';
import { createLocalEngine, type LocalEngine } from '../../local/engine/engine.js';
import type { LocalHandler } from '../../local/engine/lambda.js';
import { engineRunStatus } from '../../local/engine/run-status.js';
import type { GitHubServer } from '../../local/stand-ins/github/index.js';
import { loadConfig } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import { type CommitRequest, ERRORS, type RunInput, runInputSchema } from '../../shared/contracts/tasks.js';
import { configuredChanges } from '../../shared/domain/allowed-changes.js';
import type { Alert } from '../../shared/domain/release-thread.js';
import { logger } from '../../shared/observability/index.js';
import { Inbox } from '../local/engine/inbox.js';
import { connect, PRODUCTION, STAGING, startItdoGitHub } from '../shared/steps/commit/support.js';
import { approval, type HealthAnswer, type Recorded, scriptedHandlers } from './scripted-handlers.js';

const input = runInputSchema.parse(
  JSON.parse(readFileSync(new URL('./fixtures/run-input.json', import.meta.url), 'utf8')),
) as RunInput;
const EXECUTION = 'backend-v2.1.6-4c1f5e2b8a9d';
const GROUP = 'itdo-erp/itdo-erp-infrastructure#main';

let config: Config;
let template: CfnTemplate;
beforeAll(async () => {
  config = await loadConfig('shiplane.config.yaml');
  template = synthesizeTemplate(config) as CfnTemplate;
}, 120_000);

let server: GitHubServer | undefined;
const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  await server?.close();
  server = undefined;
  vi.restoreAllMocks();
});

/** The engine with the real committer against the ITDO ERP stand-in; the other handlers scripted. */
async function run(health: Record<string, HealthAnswer[]> = {}) {
  server = await startItdoGitHub();
  const github = await connect(server);
  let engine: LocalEngine | undefined;
  const running = () => engine as LocalEngine;
  const alerts = new Inbox<Alert>();
  const { handlers, recorded } = scriptedHandlers({ health }, running);
  const committer = createCommitterHandler({
    github,
    taskTokens: {
      succeed: (token, output) => running().taskTokens.succeed(token, output),
      fail: (token, error, cause) => running().taskTokens.fail(token, error, cause),
    },
    accept: configuredChanges(config),
    runs: engineRunStatus(running),
    alert: async (alert) => alerts.push(alert),
    commit: { sleep: async () => undefined },
  });
  engine = createLocalEngine({
    template,
    handlers: { ...handlers, committer: committer as LocalHandler },
    timing: { waitSeconds: 0, retryIntervalMs: 0 },
  });
  engines.push(engine);
  return { engine, recorded, alerts, server };
}

/** The production change a forger would send: the run's own release, its execution, production's file. */
const forgedProduction = (taskToken: string): CommitRequest => ({
  taskToken,
  execution: EXECUTION,
  repository: config.gitops.repository,
  branch: config.gitops.branch,
  change: {
    kind: 'image',
    edit: 'promotion',
    stage: 'production',
    file: PRODUCTION,
    release: input.release,
    pinDigest: true,
    createIfMissing: false,
  },
});

const pinned = async (server: GitHubServer, file: string) =>
  (parse((await server.readFile(file))!).images as { name: string; newTag: string; digest?: string }[]).find(
    (image) => image.name === 'itdo-erp/backend',
  );

const notified = (recorded: Recorded) =>
  recorded.notifications.map((n) => (n.stage ? `${n.event}:${n.stage}` : n.event));

describe('the committer on the local engine writes only what a run waits for', () => {
  it('refuses a forged production change while the run waits for approval; the approved run then deploys', async () => {
    const { engine, recorded, alerts, server } = await run();
    const logged = vi.spyOn(logger, 'error');
    const execution = engine.start(input, EXECUTION);
    const request = await recorded.approvals.next();
    const head = await server.head();
    expect((await pinned(server, STAGING))?.newTag).toBe('v2.1.6');
    expect((await pinned(server, PRODUCTION))?.newTag).toBe('v2.1.4');

    // One forger made up a token; another holds the approval's own (the worst case: it must not be answered).
    const guessed = 'local:forged-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    engine.sendMessage('commit', { body: JSON.stringify(forgedProduction(guessed)), groupId: GROUP });
    engine.sendMessage('commit', {
      body: JSON.stringify(forgedProduction(request.taskToken)),
      groupId: GROUP,
    });
    const refused = [await alerts.next(), await alerts.next()];

    const reason = `run ${EXECUTION} is not waiting for a commit (no commit task of it is pending): it did not send this change`;
    for (const alert of refused) {
      expect(alert.subject).toBe('Shiplane refused a commit request');
      expect(alert.message).toContain('Promote backend v2.1.6 to production');
      expect(alert.message).toContain(`Reason: ${reason}`);
      expect(alert.message).not.toContain(guessed);
      expect(alert.message).not.toContain(request.taskToken);
    }
    const refusals = logged.mock.calls.filter(([message]) =>
      String(message).startsWith('a change was refused'),
    );
    expect(refusals).toHaveLength(2);
    expect(refusals[0]?.[1]).toMatchObject({ execution: EXECUTION, reason });
    expect(JSON.stringify(logged.mock.calls)).not.toContain(request.taskToken);
    // Nothing was written, and the run still waits for its approval.
    expect(await server.head()).toBe(head);
    expect((await pinned(server, PRODUCTION))?.newTag).toBe('v2.1.4');
    expect(engine.describeExecution(EXECUTION).status).toBe('RUNNING');
    expect(engine.deadLetters()).toEqual([]);

    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}').outcome).toBe('deployed');
    expect(await pinned(server, PRODUCTION)).toMatchObject({
      newTag: 'v2.1.6',
      digest: input.release.digest,
    });
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'healthy:staging',
      'approved:production',
      'committed:production',
      'healthy:production',
      'deployed',
    ]);
  }, 120_000);

  it("admits the run's own automatic rollback, and refuses a rollback forged to another tag", async () => {
    const degraded: HealthAnswer = {
      status: 'degraded',
      message: 'Deployment "backend" exceeded its progress deadline',
      revision: 'f'.repeat(40),
      syncStatus: 'Synced',
      healthStatus: 'Degraded',
    };
    const healthy: HealthAnswer = {
      status: 'healthy',
      message: 'Synced and Healthy',
      revision: 'e'.repeat(40),
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
    };
    const { engine, recorded, alerts, server } = await run({ staging: [degraded, healthy] });
    const forged: CommitRequest = {
      taskToken: 'local:forged-rollback-token',
      execution: EXECUTION,
      repository: config.gitops.repository,
      branch: config.gitops.branch,
      change: {
        kind: 'image',
        edit: 'rollback',
        stage: 'staging',
        file: STAGING,
        release: { ...input.release, tag: 'v1.0.0' },
        pinDigest: false,
        createIfMissing: false,
        rollback: { of: EXECUTION, fromTag: 'v2.1.6', fromDigest: input.release.digest, reason: 'forged' },
      },
    };
    // Sent once the run has started, while it commits staging and waits for Argo CD.
    const stop = engine.on('event', ({ event }) => {
      if (event.stateEnteredEventDetails?.name !== 'Staging · Notify committed') return;
      stop();
      engine.sendMessage('commit', { body: JSON.stringify(forged), groupId: GROUP });
    });

    const result = await engine.start(input, EXECUTION).done;

    expect(result).toMatchObject({ status: 'FAILED', error: ERRORS.rolledBack });
    expect((await pinned(server, STAGING))?.newTag).toBe('v2.1.5');
    expect(notified(recorded)).toEqual([
      'started',
      'committed:staging',
      'rolling-back:staging',
      'rolled-back:staging',
    ]);
    const alert = await alerts.next();
    expect(alert.message).toContain('Roll back backend v2.1.6 → v1.0.0 in staging');
    expect(alerts.received).toHaveLength(1);
    const log = await server.git('log', '--format=%s', '-3', 'main');
    expect(log).not.toContain('v1.0.0');
    expect(log).toContain('Roll back backend v2.1.6 → v2.1.5 in staging');
  }, 120_000);
});
