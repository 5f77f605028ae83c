import { describe, expect, it } from 'vitest';
import { compareReleaseTags } from '../../../shared/domain/tag-order.js';

describe('compareReleaseTags', () => {
  it.each([
    ['v2.1.6', 'v2.1.7'],
    ['v2.1.9', 'v2.1.10'],
    ['v2.9.0', 'v2.10.0'],
    ['v1.99.99', 'v2.0.0'],
    ['2.1.6', 'v2.1.7'],
    ['v2.1.6-hotfix1', 'v2.1.7-rc.1'],
  ])('puts %s before %s', (older, newer) => {
    expect(compareReleaseTags(older, newer)).toBe(-1);
    expect(compareReleaseTags(newer, older)).toBe(1);
  });

  it.each([
    ['v2.1.6', 'v2.1.6'],
    ['v2.1.7-rc.1', 'v2.1.7'],
    ['v2.1.7-bad', 'v2.1.7'],
    ['v2.1.6-hotfix1', 'v2.1.6'],
    ['v2.1.6+build.7', '2.1.6'],
  ])('leaves suffixes unordered: %s is the same version as %s', (a, b) => {
    expect(compareReleaseTags(a, b)).toBe(0);
    expect(compareReleaseTags(b, a)).toBe(0);
  });

  it.each([
    ['latest', 'v2.1.6'],
    ['v2.1.6', 'sha-13e1f78'],
    ['v2.1', 'v2.1.6'],
  ])('has no order for %s against %s', (a, b) => {
    expect(compareReleaseTags(a, b)).toBeUndefined();
  });
});
