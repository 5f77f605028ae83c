/**
 * The committer's run check against Step Functions (DescribeExecution and GetExecutionHistory mocked
 * with aws-sdk-client-mock): an image change is admitted only when it is exactly what the run's
 * pending commit task was scheduled with, task token included.
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stepFunctionsRunStatus } from '../../../../shared/adapters/aws/run-status.js';
import type { CommitRequest } from '../../../../shared/contracts/tasks.js';
import { runChecker } from '../../../../shared/steps/commit/run-check.js';
import { RunHistory, type ServedHistory, serveHistory } from '../../adapters/aws/sfn-history.js';
import { imageRequest, release, rollbackRequest } from './support.js';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ShiplanePromotion';
const EXECUTION_PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution:ShiplanePromotion:';
const EARLIER_DIGEST = `sha256:${'5'.repeat(64)}`;

const STAGING_TOKEN = 'AAAAKgAAAAIAAAAAAAAAAstaging-token';
const PRODUCTION_TOKEN = 'AAAAKgAAAAIAAAAAAAAAAproduction-token';
const APPROVAL_TOKEN = 'AAAAKgAAAAIAAAAAAAAAAapproval-token';
const ROLLBACK_TOKEN = 'AAAAKgAAAAIAAAAAAAAAArollback-token';
const TOKENS = [STAGING_TOKEN, PRODUCTION_TOKEN, APPROVAL_TOKEN, ROLLBACK_TOKEN];

/** What the state machine renders for backend v2.1.6 (ITDO ERP: digests pinned). */
const staging = imageRequest('backend', 'v2.1.6', { token: STAGING_TOKEN, pinDigest: true });
const production = imageRequest('backend', 'v2.1.6', {
  token: PRODUCTION_TOKEN,
  stage: 'production',
  pinDigest: true,
});
const execution = staging.execution!;
const ARN = `${EXECUTION_PREFIX}${execution}`;

/** The run up to its staging commit. */
const started = () =>
  new RunHistory(release('backend', 'v2.1.6')).state('Prepare').lambda('Notify release started');

/** The run past a healthy staging, after `polls` Argo CD polls. */
const stagingHealthy = (polls = 2) =>
  started()
    .commit('Staging · Commit new tag', staging, { end: 'TaskSucceeded' })
    .lambda('Staging · Notify committed')
    .argoWait('Staging', polls)
    .lambda('Staging · Notify healthy');

const sfn = mockClient(SFNClient);
let served: ServedHistory;

beforeEach(() => {
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: ARN,
    status: 'RUNNING',
    input: JSON.stringify({ release: release('backend', 'v2.1.6') }),
  });
});
afterEach(() => sfn.reset());

/** The run's history as GetExecutionHistory pages it, and a checker for one batch. */
function checkerWith(history: RunHistory) {
  served = serveHistory(sfn, new Map([[ARN, history.events()]]));
  return runChecker(stepFunctionsRunStatus(new SFNClient({}), STATE_MACHINE_ARN));
}

/** A refusal's reason, checked to name the run and never a task token. */
async function refusal(check: ReturnType<typeof runChecker>, request: CommitRequest) {
  const verdict = await check(request);
  if (verdict.verdict !== 'refused') throw new Error(`expected a refusal, got ${JSON.stringify(verdict)}`);
  expect(verdict.reason).toContain(execution);
  for (const token of TOKENS) expect(verdict.reason).not.toContain(token);
  return verdict;
}

describe('runChecker over Step Functions', () => {
  it('admits the change the pending commit task was scheduled with, reading one newest-first page', async () => {
    const check = checkerWith(started().commit('Staging · Commit new tag', staging));

    expect(await check(staging)).toEqual({ verdict: 'allowed' });
    expect(served.requests).toEqual([
      { executionArn: ARN, reverseOrder: true, maxResults: 100, includeExecutionData: true },
    ]);
  });

  it('refuses a production change while the run waits for its staging commit', async () => {
    const check = checkerWith(started().commit('Staging · Commit new tag', staging));

    // With its own token: nothing ties it to a pending task; the run is left waiting for staging.
    const forged = await refusal(check, production);
    expect(forged).toEqual({
      verdict: 'refused',
      reason: `the task token is not the one run ${execution} waits on for its pending commit, Promote backend v2.1.6 to staging (environments/staging/kustomization.yaml)`,
      finished: true,
    });

    // With the staging task's own token (leaked): the change is still not what the run rendered.
    const tampered = await refusal(check, { ...production, taskToken: STAGING_TOKEN });
    expect(tampered.reason).toBe(
      `run ${execution} waits for Promote backend v2.1.6 to staging (environments/staging/kustomization.yaml), but the message asks to Promote backend v2.1.6 to production (environments/production/kustomization.yaml) (change.stage, change.file differ)`,
    );
    // That token is the one the run waits on: failing it now beats a 15-minute timeout.
    expect(tampered.finished).toBe(false);
    expect(served.requests).toHaveLength(1);
  });

  it('refuses a production change while the run waits for approval: no commit task is pending', async () => {
    const check = checkerWith(stagingHealthy().approval('Production · Await approval', APPROVAL_TOKEN));

    for (const token of [PRODUCTION_TOKEN, APPROVAL_TOKEN, STAGING_TOKEN]) {
      const verdict = await refusal(check, { ...production, taskToken: token });
      expect(verdict).toEqual({
        verdict: 'refused',
        reason: `run ${execution} is not waiting for a commit (no commit task of it is pending): it did not send this change`,
        finished: true,
      });
    }
    // One history read for the batch, however many changes name the run.
    expect(served.requests).toHaveLength(1);
  });

  it('admits the production change once the approved run renders it', async () => {
    const check = checkerWith(
      stagingHealthy()
        .approval('Production · Await approval', APPROVAL_TOKEN, { end: 'TaskSucceeded' })
        .state('Production · Approved?', 'Choice')
        .lambda('Production · Notify approved')
        .commit('Production · Commit new tag', production),
    );

    expect(await check(production)).toEqual({ verdict: 'allowed' });
    const stale = await refusal(check, staging);
    expect(stale.reason).toContain('the task token is not the one');
  });

  it("admits the run's own rollback, and refuses one forged to another earlier tag", async () => {
    const rollback = {
      ...rollbackRequest(staging, { tag: 'v2.1.5', digest: EARLIER_DIGEST }),
      taskToken: ROLLBACK_TOKEN,
    };
    const check = checkerWith(
      stagingHealthy()
        .state('Staging · Degraded')
        .state('Staging · Roll back?', 'Choice')
        .state('Staging · Plan rollback to tag and digest')
        .lambda('Staging · Notify rolling back')
        .commit('Staging · Commit rollback', rollback),
    );

    expect(await check(rollback)).toEqual({ verdict: 'allowed' });

    const elsewhere = {
      ...rollbackRequest(staging, { tag: 'v1.0.0', digest: `sha256:${'6'.repeat(64)}` }),
      taskToken: ROLLBACK_TOKEN,
    };
    const forged = await refusal(check, elsewhere);
    expect(forged.reason).toBe(
      `run ${execution} waits for Roll back backend v2.1.6 → v2.1.5 in staging (environments/staging/kustomization.yaml), but the message asks to Roll back backend v2.1.6 → v1.0.0 in staging (environments/staging/kustomization.yaml) (change.release.tag, change.release.digest differ)`,
    );
    const tagOnly = await refusal(check, {
      ...rollback,
      change: { ...rollback.change, pinDigest: false } as CommitRequest['change'],
    });
    expect(tagOnly.reason).toContain('(change.pinDigest differ)');
    const otherReason = await refusal(check, {
      ...rollback,
      change: {
        ...rollback.change,
        rollback: {
          of: execution,
          fromTag: 'v2.1.6',
          fromDigest: staging.change.kind === 'image' ? staging.change.release.digest : '',
          reason: 'forged',
        },
      } as CommitRequest['change'],
    });
    expect(otherReason.reason).toContain('(change.rollback.reason differ)');
  });

  it('refuses a request whose task token is not the pending task’s, however right the change', async () => {
    const check = checkerWith(started().commit('Staging · Commit new tag', staging));

    const verdict = await refusal(check, { ...staging, taskToken: 'AAAAKgAAAAIAAAAAAAAAAguessed' });

    expect(verdict).toEqual({
      verdict: 'refused',
      reason: `the task token is not the one run ${execution} waits on for its pending commit, Promote backend v2.1.6 to staging (environments/staging/kustomization.yaml)`,
      finished: true,
    });
  });

  it('after a commit task timed out and was retried, admits only the retry’s message', async () => {
    const first = { ...staging, taskToken: 'AAAAKgAAAAIAAAAAAAAAAfirst-attempt' };
    const check = checkerWith(
      started()
        .commit('Staging · Commit new tag', first, { end: 'TaskTimedOut' })
        .commit('Staging · Commit new tag', staging),
    );

    expect(await check(staging)).toEqual({ verdict: 'allowed' });
    expect((await check(first)).verdict).toBe('refused');
  });

  it('pages back through a long Argo CD wait to the last commit, and no further', async () => {
    // Production's Argo CD wait, 40 polls of about ten events each so far: its commit ended pages back,
    // and staging's as long wait lies further back still.
    const history = stagingHealthy(40)
      .approval('Production · Await approval', APPROVAL_TOKEN, { end: 'TaskSucceeded' })
      .state('Production · Approved?', 'Choice')
      .lambda('Production · Notify approved')
      .commit('Production · Commit new tag', production, { end: 'TaskSucceeded' })
      .lambda('Production · Notify committed')
      .argoWait('Production', 40);
    const check = checkerWith(history);
    const events = history.events();

    const verdict = await refusal(check, production);

    expect(verdict.reason).toContain('is not waiting for a commit');
    const committedAt = events.findLastIndex(
      (event) => event.type === 'TaskSucceeded' && event.taskSucceededEventDetails?.resourceType === 'sqs',
    );
    const pagesToCommit = Math.ceil((events.length - committedAt) / 100);
    expect(pagesToCommit).toBeGreaterThan(2);
    // Each request carries the previous reply's nextToken; the pages older than the commit are never read.
    expect(served.requests).toHaveLength(pagesToCommit);
    expect(served.requests[0]?.nextToken).toBeUndefined();
    for (const request of served.requests.slice(1)) expect(request.nextToken).toEqual(expect.any(String));
    expect(new Set(served.requests.map((r) => r.nextToken)).size).toBe(pagesToCommit);
    expect(Math.ceil(events.length / 100)).toBeGreaterThan(pagesToCommit + 2);
  });

  it('reads every page of a run that never committed, and finds nothing pending', async () => {
    const history = started();
    for (let i = 0; i < 120; i++) history.lambda(`Notify release started`);
    const check = checkerWith(history);

    const verdict = await refusal(check, staging);

    expect(verdict.reason).toContain('is not waiting for a commit');
    expect(served.requests).toHaveLength(Math.ceil(history.events().length / 100));
  });

  it('refuses when the pending task’s parameters are cut short or missing: nothing is written unchecked', async () => {
    const rendered = JSON.stringify({ QueueUrl: 'https://sqs', MessageBody: staging });
    for (const [parameters, why] of [
      [rendered.slice(0, 200), 'the parameters of its TaskScheduled event are not JSON (cut short?)'],
      [null, 'its TaskScheduled event carries no parameters (history read without execution data?)'],
      [
        JSON.stringify({ QueueUrl: 'https://sqs' }),
        'the parameters of its TaskScheduled event have no MessageBody',
      ],
      [
        JSON.stringify({ MessageBody: JSON.stringify(staging).slice(0, 300) }),
        'the MessageBody of its TaskScheduled event is not JSON (cut short?)',
      ],
      [
        JSON.stringify({ MessageBody: { ...staging, change: undefined } }),
        'the MessageBody it was scheduled with is not a commit request (change: ',
      ],
    ] as const) {
      sfn.reset();
      sfn.on(DescribeExecutionCommand).resolves({
        status: 'RUNNING',
        input: JSON.stringify({ release: release('backend', 'v2.1.6') }),
      });
      const check = checkerWith(started().commit('Staging · Commit new tag', staging, { parameters }));

      const verdict = await refusal(check, staging);

      expect(verdict.reason).toContain(
        `the pending commit task of run ${execution} cannot be checked: ${why}`,
      );
      // The token cannot be tied to the run: it is not answered.
      expect(verdict.finished).toBe(true);
    }
  });

  it('keeps the cheap checks first: a run that ended is refused without reading its history', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      input: JSON.stringify({ release: release('backend', 'v2.1.6') }),
    });
    const check = checkerWith(started().commit('Staging · Commit new tag', staging));

    const verdict = await refusal(check, staging);

    expect(verdict).toMatchObject({ finished: true });
    expect(verdict.reason).toContain('is FAILED, no longer RUNNING');
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });

  it('answers a refusal for another release only when the token is the pending task’s', async () => {
    const otherTag = imageRequest('backend', 'v2.2.0', { token: STAGING_TOKEN, pinDigest: true });
    const sameRun = { ...otherTag, execution };
    const check = checkerWith(started().commit('Staging · Commit new tag', staging));

    const withPendingToken = await refusal(check, sameRun);
    const withOtherToken = await refusal(check, { ...sameRun, taskToken: PRODUCTION_TOKEN });

    expect(withPendingToken.reason).toContain('(tag differ)');
    expect(withPendingToken.finished).toBe(false);
    expect(withOtherToken.reason).toBe(withPendingToken.reason);
    expect(withOtherToken.finished).toBe(true);
  });
});

describe('stepFunctionsRunStatus.pendingCommit', () => {
  it('is undefined for an execution that does not exist, and never asks about an ARN', async () => {
    serveHistory(sfn, new Map());
    const runs = stepFunctionsRunStatus(new SFNClient({}), STATE_MACHINE_ARN);

    expect(await runs.pendingCommit('backend-v9.9.9-000000000000')).toBeUndefined();
    expect(await runs.pendingCommit(`${EXECUTION_PREFIX}${execution}`)).toBeUndefined();
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  });

  it('throws what Step Functions throws otherwise, so the message comes back later', async () => {
    sfn
      .on(GetExecutionHistoryCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const runs = stepFunctionsRunStatus(new SFNClient({}), STATE_MACHINE_ARN);

    await expect(runs.pendingCommit(execution)).rejects.toThrow('Rate exceeded');
  });

  it('returns the request the pending commit task rendered, token included', async () => {
    serveHistory(sfn, new Map([[ARN, started().commit('Staging · Commit new tag', staging).events()]]));
    const runs = stepFunctionsRunStatus(new SFNClient({}), STATE_MACHINE_ARN);

    expect(await runs.pendingCommit(execution)).toEqual({ kind: 'rendered', request: staging });
  });
});
