/**
 * A pull-request stage's states in the synthesized state machine, run by the local engine with the
 * real pull-request handler over both ports in memory (the path tests run the GitHub adapter against
 * the stand-in); Argo CD, notify and approval are scripted. The subject is the state machine: what
 * the Choice does with each answer, where the merge commit lands, and that approval comes first.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPullRequestHandler } from '../../functions/pull-request/handler.js';
import { synthesizeTemplate } from '../../infra/synth.js';
import { type CfnTemplate, createLocalEngine, type LocalEngine } from '../../local/engine/index.js';
import type { Config } from '../../shared/config/schema.js';
import type { RunInput } from '../../shared/contracts/tasks.js';
import { readKustomizeImage } from '../../shared/domain/kustomize-image.js';
import { recordingReporter } from '../fixtures/slack/context.js';
import { configWith } from '../infra/support.js';
import { InMemoryGitHub } from '../shared/steps/pull-request/in-memory-github.js';
import { approval, scriptedHandlers } from './scripted-handlers.js';

const REPOSITORY = 'itdo-erp/itdo-erp-infrastructure';
const STAGING = 'environments/staging/kustomization.yaml';
const PRODUCTION = 'environments/production/kustomization.yaml';
const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/gitops/itdo-erp-infrastructure/${path}`, import.meta.url), 'utf8');

/** The example config (staging direct, production with approval) with production through a pull request. */
const configFor = (merge: 'auto' | 'manual', rollback: 'auto' | 'off' = 'off'): Config =>
  configWith((input) => ({
    ...input,
    stages: input.stages.map((stage) =>
      stage.name === 'production' ? { ...stage, rollback, pullRequest: { merge } } : stage,
    ),
  }));
type Variant = 'auto' | 'manual' | 'auto-rollback';
const variants: Record<Variant, Config> = {
  auto: configFor('auto'),
  manual: configFor('manual'),
  'auto-rollback': configFor('auto', 'auto'),
};

const templates = new Map<string, CfnTemplate>();
beforeAll(() => {
  for (const [variant, config] of Object.entries(variants)) {
    templates.set(variant, synthesizeTemplate(config) as CfnTemplate);
  }
}, 60_000);

let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

const input: RunInput = {
  release: {
    app: 'backend',
    ecrRepository: 'itdo-erp/backend',
    image: 'itdo-erp/backend',
    tag: 'v2.1.6',
    digest: `sha256:${'b'.repeat(64)}`,
    registryId: '123456789012',
    region: 'eu-west-1',
    pushedAt: '2026-12-02T09:00:00Z',
  },
};

function setUp(
  merge: Variant,
  person?: (github: InMemoryGitHub) => void,
  script: Parameters<typeof scriptedHandlers>[0] = {},
) {
  const github = new InMemoryGitHub(REPOSITORY, {
    [STAGING]: fixture(STAGING),
    [PRODUCTION]: fixture(PRODUCTION),
  });
  const pullRequest = createPullRequestHandler({
    config: variants[merge],
    github: async () => ({ repository: github.repository(), pullRequests: github.pullRequests() }),
    reporter: recordingReporter(),
    now: () => new Date(),
  });
  let checks = 0;
  const { handlers, recorded } = scriptedHandlers(script, () => running);
  const running: LocalEngine = createLocalEngine({
    template: templates.get(merge)!,
    timing: { waitSeconds: 0, retryIntervalMs: 0 },
    handlers: {
      ...handlers,
      // Approve at once; a person acts on the pull request after the second look.
      'request-approval': async (event: { taskToken: string }) => {
        await handlers['request-approval']!(event as never, {} as never);
        await running.sendTaskSuccess(event.taskToken, approval('U0ALICE01'));
        return { posted: true };
      },
      'pull-request': async (event: { action: string }) => {
        if (event.action === 'check' && ++checks === 2) person?.(github);
        return pullRequest(event, {} as never);
      },
    },
  });
  engine = running;
  return { engine: running, github, recorded };
}

const outputOf = (output: string | undefined) =>
  JSON.parse(output ?? '{}') as {
    outcome?: string;
    error?: { Error?: string; Cause?: string };
    stages?: Record<string, { commit?: Record<string, unknown>; pullRequest?: Record<string, unknown> }>;
  };

describe('a stage with pullRequest in the local engine', () => {
  it('merge: auto — approval first, then the pull request (naming the approver), merged, Argo CD at the merge commit', async () => {
    const { engine, github, recorded } = setUp('auto');

    const done = await engine.start(input, 'backend-v2-1-6-auto').done;

    expect(done.status).toBe('SUCCEEDED');
    const output = outputOf(done.output);
    expect(output.outcome).toBe('deployed');
    const head = github.head('main');
    expect(output.stages?.production?.commit).toMatchObject({
      commit: head,
      status: 'committed',
      pullRequest: 1,
    });
    expect(
      recorded.healthChecks.filter((check) => check.stage === 'production').map((check) => check.commit),
    ).toEqual([head]);
    expect(github.pull(1).body).toContain('Approved by Aiko Tanaka (`U0ALICE01`)');
    expect(readKustomizeImage(PRODUCTION, github.file(PRODUCTION) ?? '', 'itdo-erp/backend')?.newTag).toBe(
      'v2.1.6',
    );
    // Staging still commits directly through the queue; production never does.
    expect(recorded.commits.map((commit) => commit.request.change.stage)).toEqual(['staging']);
    const events = recorded.notifications.filter((n) => n.stage === 'production').map((n) => n.event);
    expect(events).toEqual(['approved', 'pull-request', 'committed', 'healthy']);
  });

  it('merge: manual — looks again until a person merges, then goes on at their merge commit', async () => {
    let merged = '';
    const { engine, github } = setUp('manual', (gh) => {
      merged = gh.mergeBy(1, 'erp-lead');
    });

    const done = await engine.start(input, 'backend-v2-1-6-manual').done;

    const output = outputOf(done.output);
    expect(output.outcome).toBe('deployed');
    expect(output.stages?.production?.commit).toMatchObject({
      commit: merged,
      mergedBy: 'erp-lead',
      pullRequest: 1,
    });
    expect(github.branches.has('shiplane/backend/production/v2.1.6')).toBe(false);
  });

  it('closed without merging → Notify rejected, outcome rejected, naming who closed it', async () => {
    const { engine, github, recorded } = setUp('manual', (gh) => gh.closeBy(1, 'erp-lead'));
    const base = github.head('main');

    const done = await engine.start(input, 'backend-v2-1-6-closed').done;

    expect(done.status).toBe('SUCCEEDED');
    const output = outputOf(done.output);
    expect(output.outcome).toBe('rejected');
    expect(output.error).toMatchObject({ Error: 'Shiplane.PullRequestClosed' });
    expect(output.error?.Cause).toMatch(/closed without merging by erp-lead/);
    expect(recorded.notifications.at(-1)).toMatchObject({ event: 'rejected', stage: 'production' });
    expect(github.head('main')).toBe(base);
  });

  it('a manual rollback of the stage goes through a pull request too, titled as a rollback', async () => {
    let merged = '';
    const { engine, github, recorded } = setUp('manual', (gh) => {
      merged = gh.mergeBy(1, 'erp-lead');
    });
    const rollback: RunInput = {
      release: { ...input.release, tag: 'v2.1.3', digest: `sha256:${'3'.repeat(64)}` },
      rollback: {
        stage: 'production',
        from: { tag: 'v2.1.4' },
        reason: 'v2.1.4 leaks connections',
        by: 'alice',
      },
    };

    const done = await engine.start(rollback, 'backend-v2-1-3-rollback').done;

    expect(outputOf(done.output).outcome).toBe('deployed');
    expect(github.pull(1).title).toBe('Roll back backend to v2.1.3 in production');
    expect(github.pull(1).body).toContain('Reason: v2.1.4 leaks connections\nAsked by: alice');
    expect(github.pull(1).body).toContain('> Recovery waits for this pull request to be merged.');
    expect(outputOf(done.output).stages?.production?.commit).toMatchObject({
      commit: merged,
      pullRequest: 1,
    });
    expect(readKustomizeImage(PRODUCTION, github.file(PRODUCTION) ?? '', 'itdo-erp/backend')?.newTag).toBe(
      'v2.1.3',
    );
    expect(recorded.commits).toEqual([]);
  });

  it('rolls a Degraded pull-request stage back through a pull request too, then ends Rolled back', async () => {
    const degraded = {
      status: 'degraded' as const,
      message: 'Deployment backend 0/3 ready',
      revision: 'e'.repeat(40),
      syncStatus: 'Synced',
      healthStatus: 'Degraded',
    };
    const { engine, github, recorded } = setUp('auto-rollback', undefined, {
      health: {
        production: [degraded, { ...degraded, status: 'healthy', healthStatus: 'Healthy', message: 'ok' }],
      },
    });

    const done = await engine.start(input, 'backend-v2-1-6-rolled-back').done;

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Shiplane.RolledBack');
    expect(github.pulls.map((pull) => [pull.title, pull.head, pull.status.state])).toEqual([
      ['Promote backend v2.1.6 to production', 'shiplane/backend/production/v2.1.6', 'merged'],
      ['Roll back backend to v2.1.4 in production', 'shiplane/backend/production/rollback/v2.1.4', 'merged'],
    ]);
    expect(github.pull(2).body).toContain('(from `v2.1.6`)');
    expect(github.pull(2).body).toContain('automatic rollback by run backend-v2-1-6-rolled-back');
    const entry = readKustomizeImage(PRODUCTION, github.file(PRODUCTION) ?? '', 'itdo-erp/backend');
    expect(entry).toMatchObject({ newTag: 'v2.1.4', digest: `sha256:${'1'.repeat(64)}` });
    expect(recorded.healthChecks.filter((c) => c.stage === 'production').at(-1)?.commit).toBe(
      github.head('main'),
    );
    expect(recorded.commits.map((commit) => commit.request.change.stage)).toEqual(['staging']);
  });
});
