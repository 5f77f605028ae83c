import { describe, expect, it } from 'vitest';
import { APPROVE_ACTION } from '../../../../shared/adapters/slack/approval-message.js';
import { blockActionsSchema } from '../../../../shared/adapters/slack/interactions.js';
import { blockActionsFixture } from '../../../fixtures/slack/context.js';

describe('blockActionsSchema', () => {
  it("parses Slack's block_actions payload", () => {
    const payload = blockActionsSchema.parse(blockActionsFixture());
    expect(payload.user.id).toBe('U0ALICE01');
    expect(payload.actions[0]).toMatchObject({
      action_id: APPROVE_ACTION,
      value: '3f2a9c1d0b7e4a6c8d5e1f02',
    });
    expect(payload.message?.thread_ts).toBe('1764165600.000100');
  });

  it('names what is wrong in a payload that is not one', () => {
    const result = blockActionsSchema.safeParse({ ...blockActionsFixture(), user: { id: 'not-a-user' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['user', 'id']);
  });
});
