import { describe, expect, it } from 'vitest';
import { formatTable, median } from '../../bench/report.js';

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([40, 10, 30, 20])).toBe(25);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('formatTable', () => {
  it('aligns numbers right and text left under a header rule', () => {
    const table = formatTable([
      { handler: 'intake', KB: 581.3, goal: 'MISSED' },
      { handler: 'committer', KB: 0.3, goal: null },
    ]);

    expect(table.split('\n')).toEqual([
      'handler       KB  goal',
      '---------  -----  ------',
      'intake     581.3  MISSED',
      'committer    0.3',
    ]);
  });

  it('says when there is nothing to show', () => {
    expect(formatTable([])).toBe('(no rows)');
  });
});
