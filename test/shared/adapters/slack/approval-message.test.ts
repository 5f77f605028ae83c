import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPROVE_ACTION,
  approvalMessage,
  type ButtonElement,
  formatBytes,
  REJECT_ACTION,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  scanSummary,
  slackLimitViolations,
} from '../../../../shared/adapters/slack/approval-message.js';
import { type ApprovalFacts, stageHistory } from '../../../../shared/domain/approval.js';
import { gitopsCommitUrl } from '../../../../shared/domain/repo-url.js';
import { approvalRequest } from '../../../fixtures/slack/context.js';

const commitUrl = (sha: string) =>
  gitopsCommitUrl('https://api.github.com', 'itdo-erp/itdo-erp-infrastructure', sha);

function facts(overrides: Partial<ApprovalFacts> = {}): ApprovalFacts {
  const request = approvalRequest();
  return {
    approvalId: '3f2a9c1d0b7e4a6c8d5e1f02',
    execution: request.execution,
    stage: 'production',
    app: 'backend',
    tag: 'v1.4.2',
    previousTag: 'v1.4.1',
    digest: request.release.digest,
    ecrRepository: 'itdo-erp/backend',
    approvers: ['U0PLATFORM1', 'S0PLATFORMGRP'],
    requestedAt: '2026-11-26T14:00:00.000Z',
    deadline: '2026-11-27T14:00:00.000Z',
    history: stageHistory(request.stages, ['staging', 'production'], 'production', commitUrl),
    image: {
      pushedAt: '2026-11-26T13:40:00.000Z',
      sizeBytes: 123_456_789,
      scan: { status: 'COMPLETE', counts: { HIGH: 2, CRITICAL: 1, LOW: 7 } },
    },
    ...overrides,
  };
}

const allText = (message: SlackMessage) => JSON.stringify(message.blocks);
const buttons = (message: SlackMessage): ButtonElement[] =>
  message.blocks.flatMap((b: SlackBlock) => (b.type === 'actions' ? [...b.elements] : []));

describe('approvalMessage (pending)', () => {
  const message = approvalMessage(facts(), { status: 'pending' });
  const text = allText(message);

  it('names the app, the versions from and to, the stage and the image digest', () => {
    expect(message.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: 'Promote backend v1.4.2 to production?' },
    });
    expect(text).toContain('`v1.4.1` → `v1.4.2`');
    expect(text).toContain(`itdo-erp/backend@${approvalRequest().release.digest}`);
  });

  it('says where the release has been, with a link to the staging commit', () => {
    expect(text).toContain('*staging* healthy since <!date^1795701130^');
    expect(text).toContain(
      '<https://github.com/itdo-erp/itdo-erp-infrastructure/commit/9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c|`9b1c2d3`>',
    );
  });

  it("shows the image's push time, size and scan findings", () => {
    expect(text).toContain('pushed <!date^1795700400^');
    expect(text).toContain('123.5 MB');
    expect(text).toContain('scan: 1 critical · 2 high · 7 low');
  });

  it('names who may approve and when it expires', () => {
    expect(text).toContain('Approvers: <@U0PLATFORM1>, <!subteam^S0PLATFORMGRP>');
    expect(text).toContain('Expires <!date^1795788000^{date_short_pretty} at {time}|2026-11-27 14:00 UTC>');
  });

  it('has Approve (primary) and Reject (danger) buttons carrying the approval id, never the token', () => {
    const [approve, reject] = buttons(message);
    expect(approve).toMatchObject({
      action_id: APPROVE_ACTION,
      style: 'primary',
      value: '3f2a9c1d0b7e4a6c8d5e1f02',
    });
    expect(reject).toMatchObject({
      action_id: REJECT_ACTION,
      style: 'danger',
      value: '3f2a9c1d0b7e4a6c8d5e1f02',
    });
    expect(approve?.confirm?.title.text).toBe('Promote to production?');
    expect(JSON.stringify(message)).not.toContain(approvalRequest().taskToken);
  });

  it('has a notification text for clients that show no blocks', () => {
    expect(message.text).toBe('Approval needed: backend v1.4.2 → production');
  });

  it('is within Slack limits', () => {
    expect(slackLimitViolations(message)).toEqual([]);
  });

  it('leaves out what ECR and earlier stages did not say', () => {
    const bare = approvalMessage(facts({ image: undefined, history: [], previousTag: undefined } as never), {
      status: 'pending',
    });
    const bareText = allText(bare);
    expect(bareText).not.toContain('Where it has been');
    expect(bareText).not.toContain('pushed');
    expect(bareText).toContain('`v1.4.2` (previous version not recorded)');
    expect(slackLimitViolations(bare)).toEqual([]);
  });
});

describe('approvalMessage (after the decision)', () => {
  it('says who approved and when, and the buttons are gone', () => {
    const message = approvalMessage(facts(), {
      status: 'approved',
      by: 'U0PLATFORM1',
      byName: 'alice',
      at: '2026-11-26T14:02:00.000Z',
      via: 'slack',
    });
    expect(buttons(message)).toEqual([]);
    expect(allText(message)).toContain('Approved by <@U0PLATFORM1> at <!date^1795701720^{time}|14:02 UTC>');
    expect(message.text).toBe('Approved: backend v1.4.2 → production');
    expect(slackLimitViolations(message)).toEqual([]);
  });

  it('shows a rejection by the CLI with the AWS identity and the reason, escaped', () => {
    const message = approvalMessage(facts(), {
      status: 'rejected',
      by: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      at: '2026-11-26T14:02:00.000Z',
      reason: 'freeze <until> Monday & later',
      via: 'cli',
    });
    const text = allText(message);
    expect(buttons(message)).toEqual([]);
    expect(text).toContain('Rejected by `arn:aws:sts::123456789012:assumed-role/Admin/alice` (CLI)');
    expect(text).toContain('freeze &lt;until&gt; Monday &amp; later');
  });

  it('says an expired approval expired, without buttons', () => {
    const message = approvalMessage(facts(), { status: 'expired', at: '2026-11-27T14:00:00.000Z' });
    expect(buttons(message)).toEqual([]);
    expect(allText(message)).toContain(':hourglass: Expired');
    expect(message.text).toBe('Approval expired: backend v1.4.2 → production');
  });

  it('says a superseded approval was superseded', () => {
    const message = approvalMessage(facts(), { status: 'superseded', at: '2026-11-26T15:00:00.000Z' });
    expect(buttons(message)).toEqual([]);
    expect(allText(message)).toContain('Superseded');
  });
});

describe('approvalMessage for a manual rollback', () => {
  const rollback = facts({
    tag: 'v1.4.0',
    previousTag: 'v1.4.2',
    rollback: { reason: 'checkout <errors> since v1.4.2', by: 'arn:aws:iam::123456789012:user/aiko' },
  });

  it('asks to roll back, names from → to, why and who asked, and confirms the rollback', () => {
    const message = approvalMessage(rollback, { status: 'pending' });
    const text = allText(message);
    expect(message.blocks[0]).toMatchObject({ text: { text: 'Roll back backend in production to v1.4.0?' } });
    expect(text).toContain('*Roll back*\\n`v1.4.2` → `v1.4.0`');
    expect(text).toContain(':rewind: *Manual rollback*, asked by `arn:aws:iam::123456789012:user/aiko`');
    expect(text).toContain('*Reason*: checkout &lt;errors&gt; since v1.4.2');
    expect(buttons(message)[0]?.confirm).toMatchObject({
      title: { text: 'Roll back production?' },
      text: { text: 'production will be rolled back to backend v1.4.0.' },
    });
    expect(message.text).toBe('Approval needed: roll back backend in production v1.4.2 → v1.4.0');
    expect(slackLimitViolations(message)).toEqual([]);
  });

  it('says an expired rollback approval left the stage where it was', () => {
    const message = approvalMessage(rollback, { status: 'expired', at: '2026-11-27T14:00:00.000Z' });
    expect(allText(message)).toContain('so *production* was not rolled back to `v1.4.0`');
    expect(message.text).toBe('Approval expired: roll back backend in production v1.4.2 → v1.4.0');
  });
});

describe('approvalMessage within Slack limits, whatever the names', () => {
  it('keeps every field within its limit for long and odd inputs', () => {
    const text = fc.string({ minLength: 1, maxLength: 400 });
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.array(fc.stringMatching(/^[US][A-Z0-9]{2,20}$/), { minLength: 1, maxLength: 300 }),
        fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,29}$/), { maxLength: 60 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 30 }), fc.nat(), { maxKeys: 20 }),
        (app, tag, reason, approvers, stages, counts) => {
          const sha = '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c';
          const f = facts({
            app,
            tag,
            stage: 'production',
            approvers,
            history: stages.map((stage) => ({
              stage,
              commit: sha,
              commitUrl: `https://github.example.com/${'x'.repeat(200)}/commit/${sha}`,
              healthyAt: '2026-11-26T13:52:10Z',
            })),
            image: { scan: { status: 'COMPLETE', counts } },
          });
          for (const state of [
            { status: 'pending' } as const,
            { status: 'rejected', by: 'U0ALICE', at: '2026-11-26T14:02:00Z', reason, via: 'slack' } as const,
          ]) {
            const message = approvalMessage(f, state);
            expect(slackLimitViolations(message)).toEqual([]);
            expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('slackLimitViolations', () => {
  it('names what breaks a limit', () => {
    const long = 'x'.repeat(76);
    const blocks: SlackBlock[] = Array.from({ length: 51 }, () => ({ type: 'divider' }) as const);
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'a', text: { type: 'plain_text', text: long }, value: 'v'.repeat(2001) },
      ],
    });
    const problems = slackLimitViolations({ text: 'fallback', blocks });
    expect(problems).toContain('52 blocks (max 50)');
    expect(problems).toContain('blocks[51].elements[0].text has 76 characters (max 75)');
    expect(problems).toContain('blocks[51].elements[0].value has 2001 characters (max 2000)');
  });
});

describe('stageHistory', () => {
  it('reads the earlier stages from $.stages and skips anything that is not a result', () => {
    const history = stageHistory(
      {
        staging: approvalRequest().stages.staging,
        qa: { commit: { commit: 'not-a-sha' } },
        production: { commit: { commit: '1'.repeat(40), status: 'committed', previousTag: null } },
      },
      ['staging', 'qa', 'production'],
      'production',
      commitUrl,
    );
    expect(history).toEqual([
      {
        stage: 'staging',
        commit: '9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c',
        previousTag: 'v1.4.1',
        commitUrl:
          'https://github.com/itdo-erp/itdo-erp-infrastructure/commit/9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c',
        healthyAt: '2026-11-26T13:52:10Z',
        checks: 3,
      },
    ]);
  });
});

describe('gitopsCommitUrl', () => {
  it('links github.com commits', () => {
    expect(gitopsCommitUrl('https://api.github.com', 'o/r', 'abc')).toBe('https://github.com/o/r/commit/abc');
  });

  it('links GitHub Enterprise commits', () => {
    expect(gitopsCommitUrl('https://git.itdo-erp.com/api/v3', 'o/r', 'abc')).toBe(
      'https://git.itdo-erp.com/o/r/commit/abc',
    );
  });
});

describe('scanSummary and formatBytes', () => {
  it('summarizes findings by severity, most severe first', () => {
    expect(scanSummary({ status: 'COMPLETE', counts: { LOW: 3, CRITICAL: 1 } })).toBe('1 critical · 3 low');
    expect(scanSummary({ status: 'COMPLETE', counts: {} })).toBe('no findings');
  });

  it('formats sizes in SI units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(123_456_789)).toBe('123.5 MB');
  });
});
