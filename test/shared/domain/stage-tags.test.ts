import { describe, expect, it } from 'vitest';
import {
  chooseRollbackTarget,
  currentEntry,
  type DeployedTag,
  EMPTY_STAGE_TAGS,
  HEALTHY_HISTORY_LIMIT,
  type StageTags,
  withHealthy,
  withPinned,
} from '../../../shared/domain/stage-tags.js';
import { release } from '../../fixtures/slack/context.js';

const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const healthy = (n: number, tag = `v2.1.${n}`): DeployedTag => ({
  tag,
  digest: digestOf(n),
  execution: `backend-${tag}-run`,
  at: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
  release: { ...release(), tag, digest: digestOf(n) },
});
const history = (...ns: number[]): StageTags =>
  ns.reduce((tags, n) => withHealthy(tags, healthy(n)), EMPTY_STAGE_TAGS);
const request = { app: 'backend', stage: 'staging' };

describe('the healthy-tag history of a stage', () => {
  it('adds each healthy tag newest last and pins it', () => {
    const tags = history(4, 5);
    expect(tags.healthy.map((entry) => entry.tag)).toEqual(['v2.1.4', 'v2.1.5']);
    expect(tags.pinned).toMatchObject({ tag: 'v2.1.5', digest: digestOf(5) });
  });

  it(`keeps the last ${HEALTHY_HISTORY_LIMIT}`, () => {
    const tags = history(...Array.from({ length: 14 }, (_, i) => i));
    expect(tags.healthy.map((entry) => entry.tag)).toEqual(
      Array.from({ length: 10 }, (_, i) => `v2.1.${i + 4}`),
    );
  });

  it('moves a tag seen healthy again to the top instead of listing it twice', () => {
    const tags = withHealthy(history(4, 5, 6), { ...healthy(5), execution: 'rollback-run' });
    expect(tags.healthy.map((entry) => [entry.tag, entry.execution])).toEqual([
      ['v2.1.4', 'backend-v2.1.4-run'],
      ['v2.1.6', 'backend-v2.1.6-run'],
      ['v2.1.5', 'rollback-run'],
    ]);
  });

  it('pins what a commit put in the stage, healthy or not', () => {
    const tags = withPinned(history(5), { tag: 'v2.1.6-bad', execution: 'bad', at: 'now' });
    expect(currentEntry(tags)).toEqual({ tag: 'v2.1.6-bad' });
    expect(tags.healthy.map((entry) => entry.tag)).toEqual(['v2.1.5']);
  });
});

describe('choosing the tag a manual rollback puts back', () => {
  it('takes the newest healthy tag before the one the stage runs', () => {
    expect(chooseRollbackTarget(history(4, 5, 6), request)).toEqual({
      target: { ...healthy(5), release: healthy(5).release },
      from: { tag: 'v2.1.6', digest: digestOf(6) },
    });
  });

  it('takes the newest healthy tag when the stage was left on one that never got healthy', () => {
    const tags = withPinned(history(4, 5), {
      tag: 'v2.1.6-bad',
      digest: digestOf(66),
      execution: 'bad',
      at: 'now',
    });
    expect(chooseRollbackTarget(tags, request)).toMatchObject({
      target: { tag: 'v2.1.5' },
      from: { tag: 'v2.1.6-bad', digest: digestOf(66) },
    });
  });

  it('takes --to when the stage ran it healthy', () => {
    expect(chooseRollbackTarget(history(3, 4, 5, 6), { ...request, to: 'v2.1.3' })).toMatchObject({
      target: { tag: 'v2.1.3', digest: digestOf(3) },
      from: { tag: 'v2.1.6' },
    });
  });

  it('refuses --to a tag the stage never ran healthy, naming the ones it did', () => {
    expect(chooseRollbackTarget(history(4, 5), { ...request, to: 'v9.9.9' })).toEqual({
      problem:
        "staging never ran backend v9.9.9 Synced and Healthy, so Shiplane will not roll back to it (Shiplane's record of backend healthy in staging, newest first: v2.1.5, v2.1.4)",
    });
  });

  it('refuses --to the tag the stage runs now', () => {
    expect(chooseRollbackTarget(history(4, 5), { ...request, to: 'v2.1.5' })).toEqual({
      problem: 'staging already runs backend v2.1.5; nothing to roll back',
    });
  });

  it('refuses when nothing is recorded, or only the tag the stage runs', () => {
    expect(chooseRollbackTarget(EMPTY_STAGE_TAGS, request)).toEqual({
      problem:
        'Shiplane has no healthy tag of backend recorded in staging yet; it records one each time staging turns Synced and Healthy',
    });
    expect(chooseRollbackTarget(history(5), request)).toEqual({
      problem:
        "staging has no earlier healthy tag of backend than the one it runs (v2.1.5) to roll back to (Shiplane's record of backend healthy in staging, newest first: v2.1.5); pass --to TAG for another one",
    });
  });

  it('refuses a tag recorded before Shiplane kept its release', () => {
    const { release: _release, ...old } = healthy(4);
    const tags = withHealthy({ healthy: [old] }, healthy(5));
    expect(chooseRollbackTarget(tags, request)).toEqual({
      problem:
        'backend v2.1.4 was recorded healthy in staging before Shiplane kept the release with it; it cannot start a rollback to it',
    });
  });
});
