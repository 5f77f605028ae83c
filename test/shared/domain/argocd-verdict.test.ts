import { describe, expect, it } from 'vitest';
import type { Application } from '../../../shared/argocd/application.js';
import {
  judgeApplication,
  MultiSourceApplicationError,
  revisionsToCheck,
} from '../../../shared/domain/argocd-verdict.js';
import { TerminalError } from '../../../shared/errors.js';
import { DESCENDANT, loadApplication, OURS, PREVIOUS } from '../../fixtures/argocd/load.js';

const nothingElse = new Set<string>();

function judge(app: Application, containing: ReadonlySet<string> = nothingElse) {
  return judgeApplication({ app, commit: OURS, containing });
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

  it('refuses a multi-source application with a terminal error that says what to do', () => {
    const app = loadApplication('multi-source');

    expect(() => judge(app)).toThrow(MultiSourceApplicationError);
    expect(() => judge(app)).toThrow(TerminalError);
    expect(() => judge(app)).toThrow(/itdo-erp-staging has 2 sources .* single-source applications/);
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
