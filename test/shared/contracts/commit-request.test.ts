import { describe, expect, it } from 'vitest';
import {
  type CommitRequest,
  commitRequestSchema,
  type ImageChange,
  imageChangeKind,
} from '../../../shared/contracts/tasks.js';
import { imageRequest, manualRollbackRequest, rollbackRequest } from '../steps/commit/support.js';

const imageChangeOf = (request: CommitRequest): ImageChange => {
  if (request.change.kind !== 'image') throw new Error('an image change');
  return request.change;
};

/** The three edits as the state machine writes them now, and as it wrote them before `edit` existed. */
function requests(edit: 'explicit' | 'absent') {
  const promotion = imageRequest('backend', 'v2.1.6', edit === 'absent' ? { edit: null } : {});
  const rollback = rollbackRequest(promotion, { tag: 'v2.1.5' });
  const { request: manual } = manualRollbackRequest('backend', 'v2.1.5');
  if (edit === 'absent' && manual.change.kind === 'image') {
    const { edit: _edit, ...change } = manual.change;
    return { promotion, rollback, 'manual-rollback': { ...manual, change } };
  }
  return { promotion, rollback, 'manual-rollback': manual };
}

describe('the commit request edit kind', () => {
  it.each(['explicit', 'absent'] as const)(
    'parses each edit with change.edit %s and names the same kind',
    (shape) => {
      for (const [kind, request] of Object.entries(requests(shape))) {
        const parsed = commitRequestSchema.safeParse(request);
        expect(parsed.success, kind).toBe(true);
        const change = imageChangeOf(parsed.data!);
        expect(change.edit).toBe(shape === 'explicit' ? kind : undefined);
        expect(imageChangeKind(change)).toBe(kind);
      }
    },
  );

  it.each([
    ['promotion', 'rollback', 'carries neither `rollback` nor `manualRollback` (a promotion)'],
    ['promotion', 'manual-rollback', 'carries neither `rollback` nor `manualRollback` (a promotion)'],
    ['rollback', 'promotion', 'carries `rollback` (a rollback)'],
    ['rollback', 'manual-rollback', 'carries `rollback` (a rollback)'],
    ['manual-rollback', 'promotion', 'carries `manualRollback` (a manual rollback)'],
    ['manual-rollback', 'rollback', 'carries `manualRollback` (a manual rollback)'],
  ] as const)('refuses a %s whose edit says %s, naming both', (fields, says, carries) => {
    const request = requests('explicit')[fields];
    const contradicting = { ...request, change: { ...imageChangeOf(request), edit: says } };

    const parsed = commitRequestSchema.safeParse(contradicting);

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['change', 'edit'],
        message: `the change says it is a ${says}, but it ${carries}; nothing is written for a change whose edit and fields disagree`,
      }),
    ]);
  });

  it('refuses an edit that carries both rollbacks whatever it says; without edit, applying it refuses it', () => {
    const rollback = requests('explicit').rollback;
    const { request: manual } = manualRollbackRequest('backend', 'v2.1.5');
    const both = { ...imageChangeOf(rollback), manualRollback: imageChangeOf(manual).manualRollback };

    for (const edit of ['promotion', 'rollback', 'manual-rollback'] as const) {
      const parsed = commitRequestSchema.safeParse({ ...rollback, change: { ...both, edit } });
      expect(parsed.error?.issues[0]?.message).toContain('carries both `rollback` and `manualRollback`');
    }
    const { edit: _edit, ...withoutEdit } = both;
    const parsed = commitRequestSchema.safeParse({ ...rollback, change: withoutEdit });
    expect(parsed.success).toBe(true);
    expect(imageChangeKind(imageChangeOf(parsed.data!))).toBeUndefined();
  });

  it('refuses an edit the contract does not know', () => {
    const request = requests('explicit').promotion;
    const parsed = commitRequestSchema.safeParse({
      ...request,
      change: { ...imageChangeOf(request), edit: 'hotfix' },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['change', 'edit']);
  });
});
