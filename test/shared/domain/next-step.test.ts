import { describe, expect, it } from 'vitest';
import {
  effectiveErrorName,
  nextStep,
  nextStepText,
  type RunEnding,
} from '../../../shared/domain/next-step.js';

const RUN = 'backend-v2.1.7-bad-9c1d2e3f4a5b';
const ending = (fields: Partial<RunEnding>): RunEnding => ({
  execution: RUN,
  app: 'backend',
  outcome: 'failed',
  ...fields,
});

describe('nextStep', () => {
  it('has nothing to say about a deployed or superseded run', () => {
    expect(nextStep(ending({ outcome: 'deployed' }))).toBeUndefined();
    expect(nextStep(ending({ outcome: 'superseded' }))).toBeUndefined();
  });

  it('offers a retry after a rejection, or a new tag', () => {
    const step = nextStep(ending({ outcome: 'rejected', stage: 'production', error: 'Shiplane.Rejected' }));

    expect(step).toMatchObject({ kind: 'retry', command: `shiplane retry ${RUN}` });
    expect(nextStepText(step!)).toBe(
      `The promotion was rejected at production's approval. If it should go ahead after all, ask again with \`shiplane retry ${RUN}\`; otherwise fix and push a new tag.`,
    );
  });

  it('offers a retry after an approval expired', () => {
    const step = nextStep(ending({ outcome: 'expired', stage: 'production', error: 'States.Timeout' }));

    expect(step).toMatchObject({ kind: 'retry', command: `shiplane retry ${RUN}` });
    expect(step?.summary).toBe('Nobody approved the promotion to production in time.');
  });

  it('says where a rolled-back stage is now, by outcome or by its error name', () => {
    const byOutcome = nextStep(ending({ outcome: 'rolled-back', stage: 'staging', restoredTag: 'v2.1.5' }));
    const byError = nextStep(ending({ error: 'Shiplane.RolledBack', stage: 'staging' }));

    expect(byOutcome?.advice).toBe(
      `staging is back on v2.1.5; fix and push a new tag, or \`shiplane retry ${RUN}\`.`,
    );
    expect(byOutcome?.kind).toBe('new-release');
    expect(byError?.advice).toMatch(/^staging is back on the tag it ran before; fix and push a new tag/);
  });

  it('sends a stage left Degraded to a rollback of that app and stage', () => {
    const step = nextStep(ending({ error: 'Shiplane.Degraded', stage: 'staging' }));

    expect(step).toMatchObject({ kind: 'rollback', command: 'shiplane rollback backend --stage staging' });
    expect(step?.summary).toBe('staging is Degraded at this release and was left that way.');
    // Without the stage, the command names the option to fill in rather than a broken one.
    expect(nextStep(ending({ error: 'Shiplane.Degraded', stage: undefined }))?.command).toBe(
      'shiplane rollback backend --stage <stage>',
    );
  });

  it('offers a retry after a health timeout, and names the rollback if it stays unhealthy', () => {
    const step = nextStep(ending({ error: 'Shiplane.HealthTimeout', stage: 'production' }));

    expect(step).toMatchObject({ kind: 'retry', command: `shiplane retry ${RUN}` });
    expect(step?.advice).toContain('shiplane rollback backend --stage production');
  });

  it.each([
    ['GitHubAuthError', 'the GitHub token'],
    ['AncestryAccessError', 'the GitHub token'],
    ['ArgoCdAuthenticationError', 'the Argo CD token'],
    ['ArgoCdPermissionError', 'the Argo CD token'],
  ])('asks to fix the token in Secrets Manager after %s', (error, token) => {
    const step = nextStep(ending({ error, stage: 'staging' }));

    expect(step?.kind).toBe('fix-credentials');
    expect(step?.advice).toMatch(
      new RegExp(`^Fix ${token} .*in Secrets Manager, then \`shiplane retry ${RUN}\`\\.$`),
    );
  });

  it('reads the credentials error behind a commit failure from the cause the committer writes', () => {
    const cause =
      'Promote backend v2.1.7 to staging in itdo-erp/itdo-erp-infrastructure (branch main) failed with GitHubAuthError: GitHub rejected the credentials (401 Bad credentials)';

    expect(effectiveErrorName('Shiplane.CommitFailed', cause)).toBe('GitHubAuthError');
    expect(nextStep(ending({ error: 'Shiplane.CommitFailed', cause }))?.kind).toBe('fix-credentials');
  });

  it.each(['States.Timeout', 'BranchContentionError', 'GitHubUnavailableError', 'Lambda.ServiceException'])(
    'offers a plain retry after a passing problem (%s)',
    (error) => {
      expect(nextStep(ending({ error }))).toMatchObject({
        kind: 'retry',
        advice: `Start it again with \`shiplane retry ${RUN}\`.`,
      });
    },
  );

  it('asks to fix the file or config when a commit cannot be applied, then retry', () => {
    const step = nextStep(
      ending({
        error: 'Shiplane.CommitFailed',
        cause: 'Promote backend … cannot be applied: no images entry',
      }),
    );

    expect(step).toMatchObject({ kind: 'fix-and-retry', summary: 'The change could not be committed.' });
    expect(step?.advice).toBe(
      `Fix what the error says (Shiplane.CommitFailed), then \`shiplane retry ${RUN}\`.`,
    );
  });

  it('falls back to fix-and-retry for an error it does not know', () => {
    expect(nextStep(ending({ error: 'ArgoCdAppNotFoundError' }))).toMatchObject({
      kind: 'fix-and-retry',
      summary: 'The run failed.',
    });
    expect(nextStep(ending({}))?.advice).toBe(`Fix what the error says, then \`shiplane retry ${RUN}\`.`);
  });
});

describe('nextStep for a blocked run', () => {
  it('asks for a fixed image, or an ignore entry and a retry', () => {
    const step = nextStep(ending({ outcome: 'blocked' }));
    expect(step).toMatchObject({ kind: 'new-release', command: `shiplane retry ${RUN}` });
    expect(step?.summary).toBe('The scan gate blocked the release before anything was committed.');
    expect(step?.advice).toContain('add its CVE to apps.backend.scan.ignore');
  });
});
