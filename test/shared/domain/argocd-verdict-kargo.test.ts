/**
 * Kargo's Argo CD health and waiter test tables (akuity/kargo: the health checker in
 * pkg/health/checker/builtin/argocd_test.go, the argocd-wait step in
 * pkg/promotion/runner/builtin/argocd_waiter_test.go and the argocd-update step's
 * mustPerformUpdate in argocd_updater_test.go), ported as cases against Shiplane's verdict with
 * Argo-shaped Application JSON. Kargo compares desired revisions per source; Shiplane knows one
 * commit and the GitOps repository, so a "desired revision" row becomes our commit in our source.
 * Where Shiplane answers differently on purpose, `differs` says why. Kargo cases about its own
 * config (`waitFor` options, no desired revisions, label selectors) have no counterpart here.
 */
import { describe, expect, it } from 'vitest';
import type { HealthVerdict } from '../../../shared/contracts/tasks.js';
import type { Application } from '../../../shared/domain/argocd-application.js';
import { judgeApplication } from '../../../shared/domain/argocd-verdict.js';
import {
  type ApplicationFixture,
  GITOPS_REPOSITORY,
  loadApplication,
  OURS,
  PREVIOUS,
} from '../../fixtures/argocd/load.js';

interface KargoCase {
  /** The Kargo test table and case name. */
  readonly kargo: string;
  readonly fixture: ApplicationFixture;
  readonly change?: (app: Application) => void;
  readonly status: HealthVerdict;
  readonly message?: string | RegExp;
  /** Why Shiplane deliberately answers differently from Kargo. */
  readonly differs?: string;
}

const OTHER_SOURCE = '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d';

const health = 'health checker';
const waiter = 'argocd-wait checkAppReadiness';
const updater = 'argocd-update mustPerformUpdate';

const cases: KargoCase[] = [
  {
    kargo: `${health} › Application not reconciled after last operation`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      delete app.status!.reconciledAt;
    },
    status: 'progressing',
    message: 'sync to 9f8e7d6 finished at 2025-06-03T10:02:05Z; waiting for Argo CD to reconcile after it',
  },
  {
    kargo: `${health} › Application reconciled before last operation completed`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      app.status!.reconciledAt = '2025-06-03T10:02:00Z';
    },
    status: 'progressing',
    message: /waiting for Argo CD to reconcile after it$/,
  },
  {
    kargo: `${health} › Application has error conditions`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      app.status!.health = { status: 'Healthy', message: 'fake-message' };
      app.status!.conditions = [
        { type: 'ComparisonError', message: 'fake-error' },
        { type: 'InvalidSpecError', message: 'fake-error' },
      ];
    },
    status: 'progressing',
    message:
      'Synced and Healthy at 9f8e7d6 with an error condition (ComparisonError: fake-error; also InvalidSpecError)',
  },
  {
    kargo: `${health} › Application is not Healthy`,
    fixture: 'degraded-at-our-commit',
    status: 'degraded',
    message: 'Deployment backend Degraded: Deployment "backend" exceeded its progress deadline',
  },
  {
    kargo: `${health} › Application is Healthy, but not synced to desired revisions`,
    fixture: 'multi-source-ours-second',
    change: (app) => {
      app.status!.sync!.revisions = ['19.6.1', PREVIOUS, OTHER_SOURCE];
    },
    status: 'progressing',
    message: 'itdo-erp-staging is at a1b2c3d (Synced, Healthy), waiting for Argo CD to pick up 9f8e7d6',
  },
  {
    kargo: `${health} › Application is Healthy and synced to desired revisions`,
    fixture: 'multi-source-ours-second',
    status: 'healthy',
    message: 'Synced and Healthy at 9f8e7d6',
  },
  {
    kargo: `${health} › stageHealthForAppSync › ongoing sync operation`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      app.operation = { sync: { revision: OURS }, initiatedBy: { username: 'admin' } };
    },
    status: 'progressing',
    message: 'sync to 9f8e7d6 requested, waiting for Argo CD to start it',
  },
  {
    kargo: `${health} › stageHealthForAppSync › no operation state`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      delete app.status!.operationState;
    },
    status: 'healthy',
    differs:
      'with no operation at all, sync status and health come from the same reconciliation, so Synced and Healthy at our commit is current (a hand-applied app); Kargo waits for an operation',
  },
  {
    kargo: `${health} › stageHealthForAppSync › operation state without finished time`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      const state = app.status!.operationState!;
      state.phase = 'Running';
      state.message = 'waiting for healthy state of apps/Deployment/backend';
      delete state.finishedAt;
      delete state.syncResult;
    },
    status: 'progressing',
    message: 'sync to 9f8e7d6 Running: waiting for healthy state of apps/Deployment/backend',
  },
  {
    kargo: `${health} › stageHealthForAppSync › sync revision mismatch`,
    fixture: 'multi-source-ours-second',
    change: (app) => {
      app.status!.sync!.revisions = ['19.6.1', PREVIOUS, OTHER_SOURCE];
    },
    status: 'progressing',
    message: /is at a1b2c3d/,
  },
  {
    kargo: `${health} › stageHealthForAppHealth › progressing`,
    fixture: 'progressing-after-sync',
    status: 'progressing',
    message: /^Deployment backend Progressing: /,
  },
  {
    kargo: `${health} › stageHealthForAppHealth › progressing (due to suspension)`,
    fixture: 'rollout-canary-paused',
    status: 'progressing',
    message: 'canary paused: Rollout backend (CanaryPauseStep), waiting for it to resume',
  },
  {
    kargo: `${health} › stageHealthForAppHealth › empty health status`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      app.status!.health = {};
    },
    status: 'progressing',
    message: 'itdo-erp-staging Unknown',
  },
  {
    kargo: `${health} › stageHealthForAppHealth › healthy`,
    fixture: 'healthy-at-our-commit',
    status: 'healthy',
  },
  {
    kargo: `${health} › stageHealthForAppHealth › degraded`,
    fixture: 'rollout-aborted',
    status: 'degraded',
    message: /^canary aborted: Rollout backend \(RolloutAborted: /,
  },
  {
    kargo: `${waiter} › error condition is terminal`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      app.status!.conditions = [{ type: 'InvalidSpecError', message: 'bad spec' }];
    },
    status: 'progressing',
    message: 'Synced and Healthy at 9f8e7d6 with an error condition (InvalidSpecError: bad spec)',
    differs:
      'a condition can clear on the next reconciliation (a repo server restart, a fixed spec), so the wait goes on and the timeout ends the run with the condition in its Cause',
  },
  {
    kargo: `${waiter} › operation in progress returns not ready`,
    fixture: 'operation-running-at-our-commit',
    status: 'progressing',
    message: 'sync to 9f8e7d6 Running: waiting for healthy state of apps/Deployment/backend',
  },
  {
    kargo: `${waiter} › reconciledAt equal to finishedAt trusts health`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      app.status!.reconciledAt = app.status!.operationState!.finishedAt!;
    },
    status: 'progressing',
    differs:
      'timestamps have second precision, so equal ones cannot order a health assessment after the operation; one more poll settles it',
  },
  {
    kargo: `${waiter} › healthy and synced returns ready`,
    fixture: 'healthy-at-our-commit',
    status: 'healthy',
    message: 'Synced and Healthy at 9f8e7d6',
  },
  {
    kargo: `${waiter} › out of sync returns not ready`,
    fixture: 'healthy-at-our-commit',
    change: (app) => {
      app.status!.sync!.status = 'OutOfSync';
    },
    status: 'progressing',
    message: 'OutOfSync at 9f8e7d6',
  },
  {
    kargo: `${waiter} › health regression to Degraded from prior non-Degraded is terminal`,
    fixture: 'degraded-at-our-commit',
    status: 'degraded',
  },
  {
    kargo: `${waiter} › degraded with no prior health status is not terminal`,
    fixture: 'degraded-at-our-commit',
    status: 'degraded',
    differs:
      'Shiplane knows the sync that made it Degraded applied our commit and was reconciled after, so it fails fast (and rolls back) instead of waiting for a second look',
  },
  {
    kargo: `${waiter} › degraded with no prior health status is not terminal (release before ours)`,
    fixture: 'degraded-previous-release-outofsync-at-our-commit',
    status: 'progressing',
    message: 'OutOfSync at 9f8e7d6, waiting for a sync (last sync Succeeded at a1b2c3d)',
  },
  {
    kargo: `${updater} › running operation`,
    fixture: 'operation-running-at-our-commit',
    status: 'progressing',
    message: /^sync to 9f8e7d6 Running/,
  },
  {
    kargo: `${updater} › desired revision does not match operation state`,
    fixture: 'multi-source-ours-second',
    change: (app) => {
      app.status!.operationState!.syncResult!.revisions = ['19.6.1', PREVIOUS, OTHER_SOURCE];
    },
    status: 'progressing',
    message: 'Synced at 9f8e7d6 but no sync has run for 9f8e7d6 yet (last sync Succeeded at a1b2c3d)',
  },
  {
    kargo: `${updater} › operation completed`,
    fixture: 'multi-source-ours-second',
    status: 'healthy',
  },
];

describe("judgeApplication against Kargo's Argo CD health and waiter cases", () => {
  it.each(cases)('$kargo', ({ fixture, change, status, message }) => {
    const app = loadApplication(fixture);
    change?.(app);

    const verdict = judgeApplication({
      app,
      commit: OURS,
      containing: new Set(),
      repository: GITOPS_REPOSITORY,
    });

    expect(verdict.status).toBe(status);
    if (typeof message === 'string') expect(verdict.message).toBe(message);
    else if (message) expect(verdict.message).toMatch(message);
  });
});
