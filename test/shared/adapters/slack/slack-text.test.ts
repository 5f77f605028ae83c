import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalMessage, type SlackMessage } from '../../../../shared/adapters/slack/approval-message.js';
import {
  eventReply,
  releaseParentMessage,
} from '../../../../shared/adapters/slack/release-thread-message.js';
import { code, escapeSlackText, link, mention } from '../../../../shared/adapters/slack/slack-text.js';
import type { Notification, NotificationEvent } from '../../../../shared/contracts/tasks.js';
import type { ApprovalFacts, ApprovalState } from '../../../../shared/domain/approval.js';
import {
  applyNotification,
  type DecisionView,
  newThreadState,
} from '../../../../shared/domain/release-thread.js';
import { gitopsCommitUrl } from '../../../../shared/domain/repo-url.js';
import { clip } from '../../../../shared/domain/text.js';
import { approvalRequest, release } from '../../../fixtures/slack/context.js';

const REPO = 'itdo-erp/itdo-erp-infrastructure';
const commitUrl = (sha: string) => gitopsCommitUrl('https://api.github.com', REPO, sha);
const HOSTILE = ['<!channel>', '<https://evil|click>', '&amp;', '<@U0PLATFORM1>', '<!date^1^{time}|x>'];

/** Every text Slack reads in a message: the fallback, and each plain_text and mrkdwn field. */
function slackTexts(message: SlackMessage): string[] {
  const texts = [message.text];
  for (const block of message.blocks) {
    if (block.type === 'header') texts.push(block.text.text);
    if (block.type === 'section') {
      if (block.text) texts.push(block.text.text);
      for (const field of block.fields ?? []) texts.push(field.text);
    }
    if (block.type === 'context') for (const element of block.elements) texts.push(element.text);
    if (block.type === 'actions') {
      for (const button of block.elements) {
        texts.push(button.text.text);
        const confirm = button.confirm;
        if (confirm)
          texts.push(confirm.title.text, confirm.text.text, confirm.confirm.text, confirm.deny.text);
      }
    }
  }
  return texts;
}

/**
 * The control sequences Shiplane writes itself, exactly: dates, mentions of well-formed ids, and
 * links to a commit of the GitOps repository labelled with a short sha. Whatever `<`/`>` is left
 * after taking these out came from a value and was not escaped.
 */
const OWN_SEQUENCES = [
  /<!date\^\d+\^[{}a-z_ ]+\|[0-9: -]+UTC>/g,
  /<@[UW][A-Z0-9]+>/g,
  /<!subteam\^S[A-Z0-9]+>/g,
  new RegExp(`<https://github\\.com/${REPO}/commit/[^<>|\\s]*\\|\`[^\`<>]*\`>`, 'g'),
];

function unescapedLeftovers(text: string): string[] {
  let rest = text;
  for (const pattern of OWN_SEQUENCES) rest = rest.replace(pattern, '');
  const problems: string[] = [];
  if (/[<>]/.test(rest)) problems.push(`unescaped < or > in ${JSON.stringify(text)}`);
  // Shiplane never writes a bare `&`: each one is the start of an entity it escaped.
  if (/&(?!amp;|lt;|gt;)/.test(rest)) problems.push(`bare & in ${JSON.stringify(text)}`);
  return problems;
}

/** Strings heavy in Slack's control characters and the hostile values people try. */
const hostile = (minLength = 0) =>
  fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE, '<', '>', '&', '|', '`', '*'), fc.string({ maxLength: 6 })), {
      minLength: Math.max(minLength, 1),
      maxLength: 8,
    })
    .map((parts) => parts.join(''))
    .filter((text) => text.length >= Math.max(minLength, 1));

describe('escapeSlackText', () => {
  it("escapes Slack's three control characters and nothing else", () => {
    expect(escapeSlackText('<!channel> & <https://evil|click> *bold* &amp;')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil|click&gt; *bold* &amp;amp;',
    );
  });
});

describe('link', () => {
  it('keeps a link Shiplane builds a link, and its URL cannot end it or add a label', () => {
    expect(link('https://github.com/o/r/commit/abc', code('abc'))).toBe(
      '<https://github.com/o/r/commit/abc|`abc`>',
    );
    expect(link('https://github.com/o/r/commit/a|<!channel> x>y&z', 'label')).toBe(
      '<https://github.com/o/r/commit/a%7C%3C!channel%3E%20x%3Ey&amp;z|label>',
    );
  });

  it('links only http(s) URLs; anything else leaves the label alone', () => {
    expect(link('javascript:alert(1)', 'label')).toBe('label');
    expect(link(undefined, 'label')).toBe('label');
  });
});

describe('mention', () => {
  it('mentions well-formed user and group ids, and shows anything else as escaped code', () => {
    expect(mention('U0PLATFORM1')).toBe('<@U0PLATFORM1>');
    expect(mention('S0PLATFORMGRP')).toBe('<!subteam^S0PLATFORMGRP>');
    expect(mention('U1><!channel')).toBe('`U1&gt;&lt;!channel`');
  });
});

describe('clip', () => {
  it('never leaves half an entity at the cut', () => {
    expect(clip('ab&amp;cd', 6)).toBe('ab…');
    expect(clip('abc&lt;', 6)).toBe('abc…');
    expect(clip('abcdef', 4)).toBe('abc…');
  });
});

function facts(overrides: Partial<ApprovalFacts>): ApprovalFacts {
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
    history: [],
    ...overrides,
  };
}

describe('the approval message with hostile values', () => {
  it('escapes the app, tag and stage in the header, fields, confirm dialog and fallback text', () => {
    const message = approvalMessage(
      facts({ app: '<!channel>', tag: '<https://evil|click>', stage: '&amp;', previousTag: '<!here>' }),
      { status: 'pending' },
    );
    expect(message.text).toBe('Approval needed: &lt;!channel&gt; &lt;https://evil|click&gt; → &amp;amp;');
    expect(message.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: 'Promote &lt;!channel&gt; &lt;https://evil|click&gt; to &amp;amp;?' },
    });
    const all = slackTexts(message);
    expect(all.flatMap(unescapedLeftovers)).toEqual([]);
    expect(all.join('\n')).toContain('will be committed to &amp;amp;.');
  });

  it("escapes a decider's reason and CLI identity, and never mentions a malformed id", () => {
    const rejected = approvalMessage(facts({}), {
      status: 'rejected',
      by: 'arn:aws:iam::1:user/<!channel>',
      byName: '<https://evil|click>',
      at: '2026-11-26T14:02:00Z',
      reason: '<!channel> see <https://evil|click> &amp;',
      via: 'cli',
    });
    const approved = approvalMessage(facts({}), {
      status: 'approved',
      by: 'U1><!channel',
      at: '2026-11-26T14:02:00Z',
      via: 'slack',
    });
    expect([...slackTexts(rejected), ...slackTexts(approved)].flatMap(unescapedLeftovers)).toEqual([]);
    expect(JSON.stringify(rejected.blocks)).toContain(
      '&lt;!channel&gt; see &lt;https://evil|click&gt; &amp;amp;',
    );
  });

  it('lets no unescaped < or > from any value through, in any state', () => {
    fc.assert(
      fc.property(
        fc.record({
          app: hostile(1),
          tag: hostile(1),
          previousTag: hostile(1),
          stage: hostile(1),
          digest: hostile(1),
          ecrRepository: hostile(1),
          execution: hostile(1),
          approvers: fc.array(fc.oneof(hostile(1), fc.constant('U0PLATFORM1')), {
            minLength: 1,
            maxLength: 3,
          }),
          historyStage: hostile(1),
          revision: hostile(1),
          scanStatus: hostile(1),
          severity: hostile(1),
        }),
        fc.record({ by: hostile(1), byName: hostile(1), reason: hostile(1), newer: hostile(1) }),
        (values, decision) => {
          const f = facts({
            ...values,
            history: [
              {
                stage: values.historyStage,
                commit: values.revision,
                commitUrl: commitUrl(values.revision) ?? '',
                healthyAt: '2026-11-26T13:52:10Z',
              },
            ],
            image: { scan: { status: values.scanStatus, counts: { [values.severity]: 2 } } },
          });
          const at = '2026-11-26T14:02:00Z';
          const states: ApprovalState[] = [
            { status: 'pending' },
            { status: 'approved', by: decision.by, byName: decision.byName, at, via: 'slack' },
            {
              status: 'rejected',
              by: decision.by,
              byName: decision.byName,
              at,
              reason: decision.reason,
              via: 'cli',
            },
            { status: 'expired', at },
            { status: 'superseded', at, by: decision.newer },
          ];
          for (const state of states) {
            expect(slackTexts(approvalMessage(f, state)).flatMap(unescapedLeftovers)).toEqual([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

const EVENTS: NotificationEvent[] = [
  'started',
  'committed',
  'healthy',
  'approval-requested',
  'approved',
  'rejected',
  'expired',
  'superseded',
  'deployed',
  'degraded',
  'timed-out',
  'failed',
];

describe('the release thread with hostile values', () => {
  it('escapes a Lambda error cause, an Argo CD message and an approver reason in replies', () => {
    const state = newThreadState('run-1', release(), new Date('2026-11-26T14:00:00Z'));
    const order = ['staging', 'production'];
    const failed = eventReply(
      state,
      {
        event: 'failed',
        execution: 'run-1',
        release: release(),
        detail: {
          Error: '<!channel>',
          Cause: JSON.stringify({ errorMessage: '<https://evil|click> &amp;' }),
        },
      },
      order,
      commitUrl,
    );
    expect(failed?.split('\n')[0]).toBe(
      ':red_circle: Release failed in *staging*: `&lt;!channel&gt;` &lt;https://evil|click&gt; &amp;amp;',
    );
    const degraded = eventReply(
      state,
      {
        event: 'degraded',
        execution: 'run-1',
        release: release(),
        stage: 'staging',
        detail: {
          status: 'degraded',
          message: 'Pod <!channel> crashed',
          revision: null,
          syncStatus: 'Synced',
          healthStatus: 'Degraded',
          checkedAt: '2026-11-26T14:00:00Z',
          attempt: 1,
        },
      },
      order,
      commitUrl,
    );
    expect(degraded?.split('\n')[0]).toBe(':red_circle: *staging* is Degraded: Pod &lt;!channel&gt; crashed');
  });

  it('escapes the release in the parent message and its fallback text', () => {
    const state = newThreadState(
      'run-1',
      { ...release(), app: '<!channel>', tag: '<https://evil|click>' },
      new Date('2026-11-26T14:00:00Z'),
    );
    const message = releaseParentMessage(state, ['staging'], commitUrl);
    expect(message.text).toBe('Releasing &lt;!channel&gt; &lt;https://evil|click&gt;');
    expect(slackTexts(message).flatMap(unescapedLeftovers)).toEqual([]);
  });

  it('lets no unescaped < or > from any value through, for every event', () => {
    const at = new Date('2026-11-26T14:00:00Z');
    fc.assert(
      fc.property(
        fc.record({
          app: hostile(1),
          tag: hostile(1),
          ecrRepository: hostile(1),
          digest: hostile(1),
          execution: hostile(1),
          stages: fc.array(hostile(1), { minLength: 1, maxLength: 3 }),
          error: hostile(1),
          cause: hostile(),
          message: hostile(),
          revision: hostile(1),
          previousTag: hostile(1),
        }),
        fc.record({
          by: hostile(1),
          byName: hostile(1),
          reason: hostile(1),
          via: fc.constantFrom('slack' as const, 'cli' as const),
        }),
        fc.boolean(),
        (values, decision, lambdaCause) => {
          const order = values.stages;
          const rel = { ...release(), app: values.app, tag: values.tag, ecrRepository: values.ecrRepository };
          const cause = lambdaCause ? JSON.stringify({ errorMessage: values.cause }) : values.cause;
          const details: Record<string, unknown> = {
            committed: { commit: 'a'.repeat(40), status: 'committed', previousTag: values.previousTag },
            healthy: {
              status: 'healthy',
              message: values.message,
              revision: values.revision,
              syncStatus: 'Synced',
              healthStatus: 'Healthy',
              checkedAt: '2026-11-26T14:00:00Z',
              attempt: 2,
            },
            approved: {
              decision: 'approved',
              approvalId: 'a1',
              by: decision.by,
              byName: decision.byName,
              reason: decision.reason,
              at: '2026-11-26T14:00:00Z',
              via: decision.via,
            },
          };
          let state = newThreadState(values.execution, { ...rel, digest: values.digest }, at);
          for (const event of EVENTS) {
            const notification: Notification = {
              event,
              execution: values.execution,
              release: rel,
              ...(event === 'failed' ? {} : { stage: order[0] as string }),
              detail: details[event] ?? { Error: values.error, Cause: cause },
            };
            const view: DecisionView | undefined =
              event === 'rejected' || event === 'approved' ? decision : undefined;
            const reply = eventReply(state, notification, order, commitUrl, view);
            if (reply) expect(unescapedLeftovers(reply)).toEqual([]);
            state = applyNotification(state, notification, order, at, view);
            expect(
              slackTexts(releaseParentMessage(state, order, commitUrl)).flatMap(unescapedLeftovers),
            ).toEqual([]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
