import { describe, expect, it } from 'vitest';
import { compileTagPattern, TagPatternError, tagPatternProblem } from '../../../shared/config/tag-pattern.js';

/** 34 characters, a valid ECR tag, that `^v(\d+\.?)+$` does not match: JavaScript's RegExp backtracks for minutes. */
const NEAR_MISS = `v${'1'.repeat(32)}-`;

describe('compileTagPattern', () => {
  it.each([
    ['^v\\d+\\.\\d+\\.\\d+$', 'v1.4.2', true],
    ['^v\\d+\\.\\d+\\.\\d+$', 'v1.4.2-rc.1', false],
    ['^v\\d+\\.\\d+\\.\\d+$', 'latest', false],
    ['rc', 'v1.4.2-rc.1', true],
    ['.*', 'anything', true],
    ['^(main|release)-[0-9a-f]{7}$', 'main-3f9c2e1', true],
  ])('matches %s against %s as RegExp.test would: %s', (pattern, tag, expected) => {
    expect(compileTagPattern(pattern).test(tag)).toBe(expected);
    expect(new RegExp(pattern).test(tag)).toBe(expected);
  });

  it('answers a catastrophic pattern on a 34-character near miss at once (linear time)', () => {
    expect(NEAR_MISS).toHaveLength(34);

    const pattern = compileTagPattern('^v(\\d+\\.?)+$');

    expect(pattern.test(NEAR_MISS)).toBe(false);
    expect(pattern.test(`v${'1.'.repeat(20)}1`)).toBe(true);
  });

  it.each([
    ['a backreference', '^(v\\d+)-\\1$', /invalid escape sequence: `\\1`/],
    ['a lookahead', '^v(?!0)\\d+$', /invalid or unsupported Perl syntax: `\(\?!`/],
    ['a lookbehind', '^v\\d+(?<!-bad)$', /error parsing regexp/],
    ['an unbalanced group', '^v(\\d+$', /missing closing \)/],
  ])('refuses %s with the reason', (_, pattern, reason) => {
    expect(() => compileTagPattern(pattern)).toThrow(TagPatternError);
    const problem = tagPatternProblem(pattern);
    expect(problem).toMatch(
      /^not a pattern Shiplane can match in linear time \(RE2 syntax: no backreferences or lookarounds\): /,
    );
    expect(problem).toMatch(reason);
  });

  it('has no problem with a pattern RE2 compiles', () => {
    expect(tagPatternProblem('^v\\d+\\.\\d+\\.\\d+$')).toBeUndefined();
  });
});
