import { describe, expect, it } from 'vitest';
import type { Application } from '../../../shared/domain/argocd-application.js';
import {
  GitOpsSourceNotFoundError,
  judgeApplication,
  revisionsToCheck,
} from '../../../shared/domain/argocd-verdict.js';
import { TerminalError } from '../../../shared/errors.js';
import {
  DESCENDANT,
  GITOPS_REPOSITORY,
  loadApplication,
  OURS,
  PREVIOUS,
} from '../../fixtures/argocd/load.js';

const nothingElse = new Set<string>();

function judge(
  app: Application,
  containing: ReadonlySet<string> = nothingElse,
  repository: string | undefined = GITOPS_REPOSITORY,
) {
  return judgeApplication({ app, commit: OURS, containing, repository });
}

describe('judgeApplication', () => {
  it('is healthy when Synced and Healthy at our commit, after a succeeded sync it was reconciled after', () => {
    // Prepare
    const app = loadApplication('healthy-at-our-commit');

    // Act
    const verdict = judge(app);

    // Assess
    expect(verdict).toEqual({
      status: 'healthy',
      message: 'Synced and Healthy at 9f8e7d6',
      revision: OURS,
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
    });
  });

  it('does not pass an app that is Synced and Healthy at the previous revision', () => {
    const verdict = judge(loadApplication('synced-healthy-previous-revision'));

    expect(verdict.status).toBe('progressing');
    expect(verdict.revision).toBe(PREVIOUS);
    expect(verdict.message).toBe(
      'itdo-erp-staging is at a1b2c3d (Synced, Healthy), waiting for Argo CD to pick up 9f8e7d6',
    );
  });

  it('keeps waiting while the sync operation to our commit is still Running', () => {
    const verdict = judge(loadApplication('operation-running-at-our-commit'));

    expect(verdict).toMatchObject({
      status: 'progressing',
      revision: OURS,
      syncStatus: 'OutOfSync',
      healthStatus: 'Progressing',
      message: 'sync to 9f8e7d6 Running: waiting for healthy state of apps/Deployment/backend',
    });
  });

  it('keeps waiting when Healthy was computed before the sync operation finished', () => {
    const verdict = judge(loadApplication('reconciled-before-operation-finished'));

    expect(verdict.status).toBe('progressing');
    expect(verdict.message).toBe(
      'sync to 9f8e7d6 finished at 2025-06-03T10:02:05Z; waiting for Argo CD to reconcile after it',
    );
  });

  it('keeps waiting when reconciledAt equals finishedAt (second precision cannot order them)', () => {
    const app = loadApplication('healthy-at-our-commit');
    app.status!.reconciledAt = app.status!.operationState!.finishedAt!;

    expect(judge(app).status).toBe('progressing');
  });

  it('is healthy at a later commit that contains ours', () => {
    const verdict = judge(loadApplication('healthy-at-descendant'), new Set([DESCENDANT]));

    expect(verdict).toMatchObject({
      status: 'healthy',
      revision: DESCENDANT,
      message: 'Synced and Healthy at 5e6f7a8',
    });
  });

  it('keeps waiting at a later revision that does not contain ours', () => {
    const verdict = judge(loadApplication('healthy-at-descendant'));

    expect(verdict.status).toBe('progressing');
    expect(verdict.message).toContain('is at 5e6f7a8');
  });

  it('is degraded when the app is Degraded at our commit, naming the resource', () => {
    const verdict = judge(loadApplication('degraded-at-our-commit'));

    expect(verdict).toMatchObject({
      status: 'degraded',
      healthStatus: 'Degraded',
      message: 'Deployment backend Degraded: Deployment "backend" exceeded its progress deadline',
    });
  });

  it('is degraded when the sync operation to our commit Failed, naming the failed resource', () => {
    const verdict = judge(loadApplication('sync-failed-at-our-commit'));

    expect(verdict.status).toBe('degraded');
    expect(verdict.message).toMatch(
      /^sync to 9f8e7d6 Failed: one or more objects failed to apply, reason: .* \(Deployment backend: Deployment.apps "backend" is invalid/,
    );
  });

  it('is degraded when the sync operation to our commit ended in Error', () => {
    const app = loadApplication('sync-failed-at-our-commit');
    app.status!.operationState!.phase = 'Error';

    expect(judge(app).status).toBe('degraded');
  });

  it('does not blame our commit for a Degraded app that has not synced it yet', () => {
    const verdict = judge(loadApplication('degraded-previous-release-outofsync-at-our-commit'));

    expect(verdict.status).toBe('progressing');
    expect(verdict.message).toBe('OutOfSync at 9f8e7d6, waiting for a sync (last sync Succeeded at a1b2c3d)');
  });

  it('keeps waiting while resources are Missing', () => {
    const verdict = judge(loadApplication('missing-at-our-commit'));

    expect(verdict).toMatchObject({
      status: 'progressing',
      syncStatus: 'OutOfSync',
      healthStatus: 'Missing',
    });
    expect(verdict.message).toBe('OutOfSync at 9f8e7d6, waiting for a sync: Service backend Missing');
  });

  it('reports the rollout progress of the first unhealthy resource while Progressing', () => {
    const verdict = judge(loadApplication('progressing-after-sync'));

    expect(verdict).toMatchObject({
      status: 'progressing',
      message:
        'Deployment backend Progressing: Waiting for rollout to finish: 1 of 3 updated replicas are available...',
    });
  });

  it('asks for a sync of a manual-sync app that is OutOfSync at our commit', () => {
    const verdict = judge(loadApplication('outofsync-manual-sync-app'));

    expect(verdict).toMatchObject({ status: 'progressing', syncTo: OURS });
  });

  it('asks for a sync to the compared revision when it is a descendant of ours', () => {
    const app = loadApplication('outofsync-manual-sync-app');
    app.status!.sync!.revision = DESCENDANT;

    expect(judge(app, new Set([DESCENDANT])).syncTo).toBe(DESCENDANT);
  });

  it('never asks for a sync of an app with an automated sync policy', () => {
    const verdict = judge(loadApplication('degraded-previous-release-outofsync-at-our-commit'));

    expect(verdict.syncTo).toBeUndefined();
  });

  it('does not ask for a second sync once one ran for our commit', () => {
    const app = loadApplication('sync-failed-at-our-commit');
    app.spec!.syncPolicy = { syncOptions: ['CreateNamespace=true'] };
    app.status!.operationState!.phase = 'Succeeded';

    const verdict = judge(app);

    expect(verdict.status).toBe('progressing');
    expect(verdict.syncTo).toBeUndefined();
  });

  it('does not ask for a sync while an operation is running', () => {
    const app = loadApplication('operation-running-at-our-commit');
    app.spec!.syncPolicy = null;

    expect(judge(app).syncTo).toBeUndefined();
  });

  it('keeps waiting on an app that was never compared, with its error condition', () => {
    const app = loadApplication('missing-at-our-commit');
    app.status = {
      sync: { status: 'Unknown' },
      health: { status: 'Unknown' },
      conditions: [
        {
          type: 'ComparisonError',
          message: 'Failed to load target state: failed to generate manifest: authentication required',
          lastTransitionTime: '2025-06-03T10:01:50Z',
        },
      ],
    };

    const verdict = judge(app);

    expect(verdict).toMatchObject({ status: 'progressing', revision: null, syncStatus: 'Unknown' });
    expect(verdict.message).toBe(
      'itdo-erp-staging has not been compared to a Git revision yet (ComparisonError: Failed to load target state: failed to generate manifest: authentication required)',
    );
  });

  it('is degraded when Synced and Degraded at our commit without any operation (hand-synced app)', () => {
    const app = loadApplication('degraded-at-our-commit');
    delete app.status!.operationState;

    expect(judge(app).status).toBe('degraded');
  });

  it('keeps messages on one line and short', () => {
    const app = loadApplication('progressing-after-sync');
    const deployment = app.status!.resources!.find((r) => r.kind === 'Deployment' && r.name === 'backend')!;
    deployment.health = { status: 'Progressing', message: `line one\nline two ${'x'.repeat(500)}` };

    const verdict = judge(app);

    expect(verdict.message).not.toContain('\n');
    expect(verdict.message.length).toBeLessThanOrEqual(300);
  });
});

describe('revisionsToCheck', () => {
  it('lists the compared and operation revisions other than ours', () => {
    expect(revisionsToCheck(loadApplication('synced-healthy-previous-revision'), OURS)).toEqual([PREVIOUS]);
    expect(revisionsToCheck(loadApplication('healthy-at-descendant'), OURS)).toEqual([DESCENDANT]);
    expect(revisionsToCheck(loadApplication('outofsync-manual-sync-app'), OURS)).toEqual([PREVIOUS]);
  });

  it('has nothing to ask when every revision is ours', () => {
    expect(revisionsToCheck(loadApplication('healthy-at-our-commit'), OURS)).toEqual([]);
  });
});

describe('judgeApplication: error conditions', () => {
  it('does not pass an app Synced and Healthy at our commit while it reports a ComparisonError', () => {
    const verdict = judge(loadApplication('error-condition-synced-healthy-at-our-commit'));

    expect(verdict).toMatchObject({
      status: 'progressing',
      revision: OURS,
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
    });
    expect(verdict.message).toMatch(
      /^Synced and Healthy at 9f8e7d6 with an error condition \(ComparisonError: Failed to load target state: failed to generate manifest for source 1 of 1: .*…\)$/,
    );
    expect(verdict.message).not.toContain('\n');
    expect(verdict.message.length).toBeLessThanOrEqual(300);
  });

  it.each(['InvalidSpecError', 'SyncError', 'DeletionError', 'UnknownError'])(
    'never passes an app with a %s condition',
    (type) => {
      const app = loadApplication('healthy-at-our-commit');
      app.status!.conditions = [{ type, message: 'something went wrong' }];

      const verdict = judge(app);

      expect(verdict.status).toBe('progressing');
      expect(verdict.message).toBe(
        `Synced and Healthy at 9f8e7d6 with an error condition (${type}: something went wrong)`,
      );
    },
  );

  it('passes an app whose only condition is a warning', () => {
    const app = loadApplication('healthy-at-our-commit');
    app.status!.conditions = [
      { type: 'SharedResourceWarning', message: 'ConfigMap/backend-config is part of applications a and b' },
      { type: 'OrphanedResourceWarning', message: 'Application has 1 orphaned resources' },
    ];

    expect(judge(app).status).toBe('healthy');
  });

  it('names the first error condition and the types of the others', () => {
    const app = loadApplication('healthy-at-our-commit');
    app.status!.conditions = [
      { type: 'ComparisonError', message: 'rpc error: code = Unavailable desc = repo server down' },
      { type: 'SharedResourceWarning', message: 'shared' },
      { type: 'InvalidSpecError', message: 'spec.destination: unknown cluster' },
      { type: 'InvalidSpecError', message: 'spec.project: not permitted' },
    ];

    expect(judge(app).message).toBe(
      'Synced and Healthy at 9f8e7d6 with an error condition (ComparisonError: rpc error: code = Unavailable desc = repo server down; also InvalidSpecError)',
    );
  });

  it('keeps the condition visible behind a long progress message', () => {
    const app = loadApplication('progressing-after-sync');
    const deployment = app.status!.resources!.find((r) => r.kind === 'Deployment' && r.name === 'backend')!;
    deployment.health = { status: 'Progressing', message: `waiting\n${'x'.repeat(500)}` };
    app.status!.conditions = [{ type: 'SyncError', message: `Failed sync attempt:\n${'y'.repeat(400)}` }];

    const verdict = judge(app);

    expect(verdict.status).toBe('progressing');
    expect(verdict.message).toMatch(
      /^Deployment backend Progressing: waiting x+… \(SyncError: Failed sync attempt: y+…\)$/,
    );
    expect(verdict.message.length).toBeLessThanOrEqual(300);
  });

  it('still fails fast on a Degraded release that also has an error condition', () => {
    const app = loadApplication('degraded-at-our-commit');
    app.status!.conditions = [{ type: 'ComparisonError', message: 'cluster cache out of date' }];

    expect(judge(app)).toMatchObject({
      status: 'degraded',
      message: 'Deployment backend Degraded: Deployment "backend" exceeded its progress deadline',
    });
  });
});

describe('judgeApplication: sources', () => {
  it('judges a one-entry spec.sources like a single-source app, from status.sync.revisions[0]', () => {
    const verdict = judge(loadApplication('single-source-list-at-our-commit'));

    expect(verdict).toEqual({
      status: 'healthy',
      message: 'Synced and Healthy at 9f8e7d6',
      revision: OURS,
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
    });
  });

  it('does not pass a one-entry spec.sources app whose last sync applied the previous revision', () => {
    const app = loadApplication('single-source-list-at-our-commit');
    app.status!.operationState!.syncResult!.revisions = [PREVIOUS];

    const verdict = judge(app, new Set());

    expect(verdict.status).toBe('progressing');
    expect(verdict.message).toBe(
      'Synced at 9f8e7d6 but no sync has run for 9f8e7d6 yet (last sync Succeeded at a1b2c3d)',
    );
  });

  it('judges a multi-source app on the GitOps repository source (first of two)', () => {
    const verdict = judge(loadApplication('multi-source'));

    expect(verdict).toMatchObject({ status: 'healthy', revision: OURS });
  });

  it('finds our source second of three, spelled as ssh in another case, and compares its revision', () => {
    const verdict = judge(loadApplication('multi-source-ours-second'));

    expect(verdict).toEqual({
      status: 'healthy',
      message: 'Synced and Healthy at 9f8e7d6',
      revision: OURS,
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
    });
  });

  it('keeps waiting while our source of a multi-source app is at the previous revision', () => {
    const app = loadApplication('multi-source-ours-second');
    app.status!.sync!.revisions = ['19.6.1', PREVIOUS, '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d'];

    const verdict = judge(app);

    expect(verdict).toMatchObject({ status: 'progressing', revision: PREVIOUS });
    expect(verdict.message).toBe(
      'itdo-erp-staging is at a1b2c3d (Synced, Healthy), waiting for Argo CD to pick up 9f8e7d6',
    );
  });

  it("asks about the ancestry of our source's revisions only", () => {
    const app = loadApplication('multi-source-ours-second');
    app.status!.sync!.revisions = ['19.6.1', DESCENDANT, '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d'];
    app.status!.operationState!.syncResult!.revisions = ['19.6.1', PREVIOUS, OURS];

    expect(revisionsToCheck(app, OURS, GITOPS_REPOSITORY)).toEqual([DESCENDANT, PREVIOUS]);
  });

  it('fails with a terminal error naming the app, the repository and the sources when none is ours', () => {
    const app = loadApplication('multi-source-ours-second');

    const run = () => judge(app, nothingElse, 'itdo-erp/other-infrastructure');

    expect(run).toThrow(GitOpsSourceNotFoundError);
    expect(run).toThrow(TerminalError);
    expect(run).toThrow(
      "Argo CD application itdo-erp-staging has no source in the GitOps repository itdo-erp/other-infrastructure (its sources: https://charts.bitnami.com/bitnami, git@github.com:ITDO-ERP/itdo-erp-infrastructure.git, https://github.com/itdo-erp/platform-addons.git); point the stage's argocdApp at an Application that deploys from itdo-erp/other-infrastructure",
    );
    expect(() => revisionsToCheck(app, OURS, 'itdo-erp/other-infrastructure')).toThrow(
      GitOpsSourceNotFoundError,
    );
  });

  /**
   * The charts-repository case (issue 13): a Helm chart from a chart repository, its values file from
   * our Git repository through a `ref: values` source (`$values/…`), ours second. Argo CD reports one
   * revision per source in spec.sources order: the chart version, then our commit.
   */
  function helmWithValuesRef(revisions: string[]): Application {
    const app = loadApplication('multi-source-ours-second');
    app.spec!.sources = [
      {
        repoURL: 'https://charts.itdo-erp.com',
        chart: 'backend',
        targetRevision: '3.2.0',
        helm: { valueFiles: ['$values/charts/backend/values-production.yaml'] },
      },
      { repoURL: 'https://github.com/itdo-erp/itdo-erp-charts.git', targetRevision: 'main', ref: 'values' },
    ];
    app.status!.sync!.revisions = revisions;
    app.status!.operationState!.syncResult!.revisions = revisions;
    app.status!.operationState!.operation!.sync!.revisions = revisions;
    return app;
  }

  it('judges a chart whose values come from our repository through a ref source on that source', () => {
    const app = helmWithValuesRef(['3.2.0', OURS]);

    expect(judge(app, nothingElse, 'itdo-erp/itdo-erp-charts')).toMatchObject({
      status: 'healthy',
      revision: OURS,
      message: 'Synced and Healthy at 9f8e7d6',
    });
    expect(revisionsToCheck(app, OURS, 'itdo-erp/itdo-erp-charts')).toEqual([]);
    // The chart version is never taken for a commit, and the infrastructure repository is not a source.
    expect(() => judge(app, nothingElse, GITOPS_REPOSITORY)).toThrow(
      'Argo CD application itdo-erp-staging has no source in the GitOps repository itdo-erp/itdo-erp-infrastructure (its sources: https://charts.itdo-erp.com, https://github.com/itdo-erp/itdo-erp-charts.git)',
    );
  });

  it('keeps waiting while the ref source is still at the previous commit', () => {
    const verdict = judge(helmWithValuesRef(['3.2.0', PREVIOUS]), nothingElse, 'itdo-erp/itdo-erp-charts');

    expect(verdict).toMatchObject({ status: 'progressing', revision: PREVIOUS });
    expect(verdict.message).toContain('waiting for Argo CD to pick up 9f8e7d6');
  });

  it('keeps waiting, without taking another source’s revision, when Argo CD reports fewer revisions than sources', () => {
    // Just after a source was added, status.sync.revisions may still list the old sources only.
    const app = loadApplication('multi-source-ours-second');
    app.status!.sync!.revisions = ['19.6.1'];
    app.status!.operationState!.syncResult!.revisions = ['19.6.1'];
    app.status!.operationState!.operation!.sync!.revisions = ['19.6.1'];

    const verdict = judge(app);

    expect(verdict.status).toBe('progressing');
    expect(verdict.revision).toBeNull();
    expect(verdict.message).toBe('itdo-erp-staging has not been compared to a Git revision yet');
    expect(revisionsToCheck(app, OURS, GITOPS_REPOSITORY)).toEqual([]);
  });

  it('fails with a terminal error for a multi-source app when no GitOps repository is known', () => {
    const app = loadApplication('multi-source');

    expect(() => judgeApplication({ app, commit: OURS, containing: nothingElse })).toThrow(
      /itdo-erp-staging has 2 sources .* no GitOps repository was given/,
    );
  });
});

describe('judgeApplication: Argo Rollouts', () => {
  it('keeps waiting on a canary paused at a step and says so', () => {
    const verdict = judge(loadApplication('rollout-canary-paused'));

    expect(verdict).toMatchObject({
      status: 'progressing',
      healthStatus: 'Suspended',
      message: 'canary paused: Rollout backend (CanaryPauseStep), waiting for it to resume',
    });
  });

  it('reads the pause of Argo CD health scripts for Rollouts before v1.0 too', () => {
    const app = loadApplication('rollout-canary-paused');
    const rollout = app.status!.resources!.find((r) => r.kind === 'Rollout')!;
    rollout.health = { status: 'Suspended', message: 'Rollout is paused' };

    expect(judge(app).message).toBe(
      'canary paused: Rollout backend (Rollout is paused), waiting for it to resume',
    );
  });

  it('says blue-green for a Rollout paused before promotion', () => {
    const app = loadApplication('rollout-canary-paused');
    const rollout = app.status!.resources!.find((r) => r.kind === 'Rollout')!;
    rollout.health = { status: 'Suspended', message: 'BlueGreenPause' };

    expect(judge(app).message).toBe(
      'blue-green paused: Rollout backend (BlueGreenPause), waiting for it to resume',
    );
  });

  it('is degraded when the canary was aborted, saying so', () => {
    const verdict = judge(loadApplication('rollout-aborted'));

    expect(verdict).toMatchObject({
      status: 'degraded',
      revision: OURS,
      healthStatus: 'Degraded',
      message:
        'canary aborted: Rollout backend (RolloutAborted: Rollout aborted update to revision 7: Metric "success-rate" assessed Failed due to failed (3) > failureLimit (2))',
    });
  });
});
