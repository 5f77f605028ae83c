import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appNamePrefix,
  EXECUTION_NAME_MAX,
  executionName,
  isValidExecutionName,
  retryAttemptOf,
  retryBaseName,
  retryExecutionName,
  rollbackExecutionName,
} from '../../../shared/domain/execution-name.js';

const DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678';
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** Anything at all, including whitespace, brackets, control characters and astral code points. */
const anyText = fc.string({ unit: 'binary', minLength: 1, maxLength: 200 });
/** What Docker allows as a tag. */
const dockerTag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
/** App names as the config allows them (dashes included). */
const configApp = fc.stringMatching(/^[a-z][a-z0-9-]{0,39}$/);

describe('executionName', () => {
  it('joins app, tag and the first 12 hex of the digest', () => {
    expect(executionName('backend', 'v1.4.2', DIGEST)).toBe('backend-v1.4.2-7f5b2640fe6f');
  });

  it('accepts a bare hex digest', () => {
    expect(executionName('backend', 'v1', '7f5b2640fe6fb4f4')).toBe('backend-v1-7f5b2640fe6f');
  });

  it('refuses something that is not a digest', () => {
    expect(() => executionName('backend', 'v1', 'latest')).toThrow(/expected an image digest/);
  });

  it('replaces characters Step Functions refuses and keeps the name distinct with a hash', () => {
    const name = executionName('backend', 'v1 [rc]/2', DIGEST);
    expect(name).toMatch(/^backend-v1__rc__2-7f5b2640fe6f_[0-9a-f]{10}$/);
    expect(name).not.toBe(executionName('backend', 'v1_[rc]/2', DIGEST));
  });

  it('shortens a long tag to fit 80 characters without cutting the digest', () => {
    const tag = `release-${'x'.repeat(120)}`;
    const name = executionName('backend', tag, DIGEST);
    expect(name).toHaveLength(EXECUTION_NAME_MAX);
    expect(name).toMatch(/^backend-release-x+-7f5b2640fe6f_[0-9a-f]{10}$/);
    expect(name).not.toBe(executionName('backend', `${tag}y`, DIGEST));
  });

  it('tells apart an app with a dash from a tag with one: (my, app-v1) and (my-app, v1)', () => {
    const mine = executionName('my', 'app-v1', DIGEST);
    const myApp = executionName('my-app', 'v1', DIGEST);
    expect(mine).toBe('my-app-v1-7f5b2640fe6f');
    // An app with a dash could be read two ways, so its names carry the identity hash.
    expect(myApp).toMatch(/^my-app-v1-7f5b2640fe6f_[0-9a-f]{10}$/);
    expect(myApp).not.toBe(mine);
  });

  it('never gives a plain name the shape of a hashed one, even with a tag written to look like it', () => {
    const hashed = executionName('my-app', 'v1', DIGEST);
    const hash = hashed.slice(-10);
    // The tag that would reproduce the hashed name in the plain form cannot: the plain form ends in digest hex.
    expect(executionName('my', `app-v1-7f5b2640fe6f_${hash}`, DIGEST)).not.toBe(hashed);
  });

  it('is always a name Step Functions accepts, at most 80 characters', () => {
    fc.assert(
      fc.property(anyText, anyText, hex64, (app, tag, hex) => {
        const name = executionName(app, tag, `sha256:${hex}`);
        expect(isValidExecutionName(name)).toBe(true);
        expect(name.length).toBeLessThanOrEqual(EXECUTION_NAME_MAX);
        // The documented refusals, checked directly rather than through our own allow-list.
        expect(name).not.toMatch(/[\s<>{}[\]?*"#%\\^|~`$&,;:/]/);
        const codes = [...name].map((char) => char.codePointAt(0) ?? 0);
        expect(codes.filter((code) => code <= 0x1f || (code >= 0x7f && code <= 0x9f))).toEqual([]);
      }),
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(anyText, anyText, hex64, (app, tag, hex) => {
        expect(executionName(app, tag, `sha256:${hex}`)).toBe(executionName(app, tag, `sha256:${hex}`));
      }),
    );
  });

  it('differs for digests that differ in their first 12 hex', () => {
    fc.assert(
      fc.property(dockerTag, hex64, hex64, (tag, a, b) => {
        fc.pre(a.slice(0, 12) !== b.slice(0, 12));
        expect(executionName('backend', tag, `sha256:${a}`)).not.toBe(
          executionName('backend', tag, `sha256:${b}`),
        );
      }),
    );
  });

  const identity = fc.tuple(fc.oneof(configApp, anyText), fc.oneof(dockerTag, anyText), hex64);

  it('gives distinct releases distinct names, and the same release the same valid name', () => {
    fc.assert(
      fc.property(identity, identity, ([appA, tagA, hexA], [appB, tagB, hexB]) => {
        const a = executionName(appA, tagA, `sha256:${hexA}`);
        const b = executionName(appB, tagB, `sha256:${hexB}`);
        expect(isValidExecutionName(a)).toBe(true);
        expect(executionName(appA, tagA, `sha256:${hexA}`)).toBe(a);
        // A digest is known by its first 12 hex (48 bits), as `docker images` shows it.
        if (appA !== appB || tagA !== tagB || hexA.slice(0, 12) !== hexB.slice(0, 12)) {
          expect(a).not.toBe(b);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps apart identities that differ only in where the app ends and the tag begins', () => {
    const dashed = fc
      .tuple(
        fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/),
        fc.stringMatching(/^[a-z0-9]{1,10}$/),
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/),
      )
      .map(([head, middle, rest]) => ({ head, middle, rest }));
    fc.assert(
      fc.property(dashed, hex64, ({ head, middle, rest }, hex) => {
        const digest = `sha256:${hex}`;
        expect(executionName(head, `${middle}-${rest}`, digest)).not.toBe(
          executionName(`${head}-${middle}`, rest, digest),
        );
      }),
    );
  });

  it('differs for different tags of the same image', () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        fc.pre(a !== b);
        expect(executionName('backend', a, DIGEST)).not.toBe(executionName('backend', b, DIGEST));
      }),
    );
  });
});

describe('retryExecutionName', () => {
  const ORIGINAL = 'backend-v2.1.7-bad-9c1d2e3f4a5b';
  /** A release's own name, as executionName builds it. */
  const releaseName = fc
    .tuple(anyText, fc.oneof(anyText, fc.string({ minLength: 60, maxLength: 120 })), hex64)
    .map(([app, tag, hex]) => executionName(app, tag, `sha256:${hex}`));

  it('adds -r2 to a first run', () => {
    expect(retryExecutionName(ORIGINAL, 2)).toBe(`${ORIGINAL}-r2`);
  });

  it('replaces the -rN of a retry instead of adding a second one', () => {
    expect(retryExecutionName(`${ORIGINAL}-r2`, 3)).toBe(`${ORIGINAL}-r3`);
    expect(retryBaseName(`${ORIGINAL}-r12`)).toBe(ORIGINAL);
    expect(retryAttemptOf(`${ORIGINAL}-r12`)).toBe(12);
    expect(retryAttemptOf(ORIGINAL)).toBe(1);
  });

  it('shortens an 80-character name to its start and a hash of the whole name, keeping the suffix', () => {
    const long = executionName('backend', `release-${'x'.repeat(120)}`, `sha256:${'a'.repeat(64)}`);
    expect(long).toHaveLength(EXECUTION_NAME_MAX);

    const retry = retryExecutionName(long, 10);

    expect(retry).toHaveLength(EXECUTION_NAME_MAX);
    expect(retry.startsWith(long.slice(0, EXECUTION_NAME_MAX - '.0123456789-r10'.length))).toBe(true);
    expect(retry).toMatch(/^backend-release-x+[-a]*\.[0-9a-f]{10}-r10$/);
    expect(retryAttemptOf(retry)).toBe(10);
  });

  /**
   * A plain release name of `length` characters whose tag has `middle` at character 53 of the name: the
   * middle a retry's `-rN` pushes out of a name of 78 to 80 characters.
   */
  const plainOfLength = (length: number, middle: string) => {
    const tagLength = length - 'backend-'.length - 13;
    const tag = `${'t'.repeat(45)}${middle}${'t'.repeat(tagLength - 45 - middle.length)}`;
    return executionName('backend', tag, DIGEST);
  };

  it.each([78, 79, 80])(
    'keeps apart the retries of %i-character names that differ only in the middle',
    (length) => {
      const a = plainOfLength(length, 'a');
      const b = plainOfLength(length, 'b');
      expect(a).toHaveLength(length);
      expect(a).not.toBe(b);
      for (const attempt of [2, 10, 99]) {
        expect(retryExecutionName(a, attempt)).not.toBe(retryExecutionName(b, attempt));
      }
    },
  );

  it("never gives a shortened retry the name of another release's retry that was not shortened", () => {
    const long = plainOfLength(78, 'ab');
    // The same name with one character of the middle less: 77 characters, so `-r2` fits without cutting.
    const shorter = plainOfLength(77, 'b');
    expect(shorter).toHaveLength(77);
    expect(retryExecutionName(shorter, 2)).toBe(`${shorter}-r2`);
    expect(retryExecutionName(long, 2)).not.toBe(retryExecutionName(shorter, 2));
  });

  it('keeps the names of runs that are not shortened as they were', () => {
    const fits = plainOfLength(77, 'a');
    expect(retryExecutionName(fits, 2)).toBe(`${fits}-r2`);
    expect(retryExecutionName(`${fits}-r2`, 3)).toBe(`${fits}-r3`);
    const rollback = rollbackExecutionName('backend', 'production', 'v2.1.5', 1);
    expect(retryExecutionName(rollback, 4)).toBe(`${rollback}-r4`);
  });

  it('reads any text back one way: a whole attempt of at least 1, and a base that names the run again', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          releaseName.map((name) => `${name}-r7`),
        ),
        (name) => {
          const attempt = retryAttemptOf(name);
          expect(Number.isInteger(attempt) && attempt >= 1).toBe(true);
          const base = retryBaseName(name);
          expect(attempt === 1 ? base === name : `${base}-r${attempt}` === name).toBe(true);
        },
      ),
    );
  });

  it('refuses an attempt below 2', () => {
    expect(() => retryExecutionName(ORIGINAL, 1)).toThrow(/attempt 2 or later, got 1/);
  });

  it('is always a valid name of at most 80 characters that ends in its own -rN', () => {
    fc.assert(
      fc.property(releaseName, fc.integer({ min: 2, max: 10_000 }), (name, attempt) => {
        const retry = retryExecutionName(name, attempt);
        expect(isValidExecutionName(retry)).toBe(true);
        expect(retry.endsWith(`-r${attempt}`)).toBe(true);
        expect(retryAttemptOf(retry)).toBe(attempt);
      }),
    );
  });

  it('gives every attempt of a run its own name', () => {
    fc.assert(
      fc.property(
        releaseName,
        fc.integer({ min: 2, max: 10_000 }),
        fc.integer({ min: 2, max: 10_000 }),
        (name, a, b) => {
          fc.pre(a !== b);
          expect(retryExecutionName(name, a)).not.toBe(retryExecutionName(name, b));
        },
      ),
    );
  });

  it('takes off exactly what it added when nothing had to be shortened', () => {
    fc.assert(
      fc.property(releaseName, fc.integer({ min: 2, max: 10_000 }), (name, attempt) => {
        fc.pre(name.length + `-r${attempt}`.length <= EXECUTION_NAME_MAX);
        expect(retryBaseName(retryExecutionName(name, attempt))).toBe(name);
      }),
    );
  });

  /** Release and rollback names, long ones often, some pairs differing in one character of the middle. */
  const stageName = fc.stringMatching(/^[a-z][a-z0-9-]{0,29}$/);
  const rollbackName = fc
    .tuple(
      fc.oneof(configApp, anyText),
      stageName,
      fc.oneof(dockerTag, anyText),
      fc.integer({ min: 1, max: 99 }),
    )
    .map(([app, stage, tag, attempt]) => rollbackExecutionName(app, stage, tag, attempt));
  const runName = fc.oneof(releaseName, rollbackName);
  const middleTwins = fc
    .tuple(
      fc.integer({ min: 74, max: 80 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom('a', 'b', 'c', '-', '_', '.', 'ab', ''),
    )
    .map(([length, at, change]) => {
      const base = plainOfLength(length, 'x');
      // Mostly in the middle a shortened retry leaves out, sometimes anywhere in the tag.
      const cut = at % 2 === 0 ? 48 + (at % 10) : 8 + (at % (length - 21));
      return [base, executionNameOrSame(`${base.slice(0, cut)}${change}${base.slice(cut + 1)}`)] as const;
    });
  /** A string shaped like a release name stands for one; not every edit is one a release could have. */
  function executionNameOrSame(name: string): string {
    return isValidExecutionName(name) ? name : 'backend-v1-7f5b2640fe6f';
  }

  it('gives distinct runs and attempts distinct retry names (and never a name a release or rollback has)', () => {
    const attempt = fc.integer({ min: 2, max: 99 });
    const pair = fc.oneof(fc.tuple(runName, runName), middleTwins);
    fc.assert(
      fc.property(pair, attempt, attempt, ([a, b], attemptA, attemptB) => {
        const retryA = retryExecutionName(a, attemptA);
        const retryB = retryExecutionName(b, attemptB);
        expect(isValidExecutionName(retryA)).toBe(true);
        expect(retryA.length).toBeLessThanOrEqual(EXECUTION_NAME_MAX);
        expect(retryA).not.toBe(a);
        expect(retryA).not.toBe(b);
        if (a !== b || attemptA !== attemptB) expect(retryA).not.toBe(retryB);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps the retries of two different releases apart', () => {
    fc.assert(
      fc.property(releaseName, releaseName, fc.integer({ min: 2, max: 10_000 }), (a, b, attempt) => {
        fc.pre(a.slice(-13) !== b.slice(-13));
        expect(retryExecutionName(a, attempt)).not.toBe(retryExecutionName(b, attempt));
      }),
    );
  });
});

describe('rollbackExecutionName', () => {
  it('names app, stage, the tag it goes back to and the attempt', () => {
    expect(rollbackExecutionName('backend', 'production', 'v2.1.5', 1)).toBe(
      'backend-production-rollback-v2.1.5-1',
    );
    expect(rollbackExecutionName('backend', 'production', 'v2.1.5', 12)).toBe(
      'backend-production-rollback-v2.1.5-12',
    );
  });

  it('never looks like a release name (12 hex) or a retry (-rN), and retries of it keep their own names', () => {
    const name = rollbackExecutionName('backend', 'staging', 'v2.1.5', 2);
    expect(retryAttemptOf(name)).toBe(1);
    expect(retryExecutionName(name, 2)).toBe(`${name}-r2`);
  });

  it('tells apart an app with a dash from a stage with one: (my, app-prod) and (my-app, prod)', () => {
    const mine = rollbackExecutionName('my', 'app-prod', 'v1', 1);
    const myApp = rollbackExecutionName('my-app', 'prod', 'v1', 1);
    expect(mine).not.toBe(myApp);
    expect(isValidExecutionName(mine) && isValidExecutionName(myApp)).toBe(true);
  });

  it('never gives a plain name the shape of a shortened one, even with a tag written to look like it', () => {
    const long = `v1-${'x'.repeat(100)}`;
    const shortened = rollbackExecutionName('backend', 'production', long, 1);
    expect(shortened.length).toBeLessThanOrEqual(EXECUTION_NAME_MAX);
    // The tag that would spell the shortened name out in the plain form.
    const head = shortened.replace(/[-_]1$/, '');
    const lookalike = head.slice('backend-production-rollback-'.length);
    expect(rollbackExecutionName('backend', 'production', lookalike, 1)).not.toBe(shortened);
  });

  it('gives distinct rollbacks distinct names', () => {
    const stage = fc.stringMatching(/^[a-z][a-z0-9-]{0,29}$/);
    const rollback = fc.tuple(
      fc.oneof(configApp, anyText),
      fc.oneof(stage, anyText),
      fc.oneof(dockerTag, fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{60,127}$/)),
      fc.integer({ min: 1, max: 99 }),
    );
    fc.assert(
      fc.property(rollback, rollback, ([appA, stageA, tagA, nA], [appB, stageB, tagB, nB]) => {
        const a = rollbackExecutionName(appA, stageA, tagA, nA);
        expect(isValidExecutionName(a)).toBe(true);
        if (appA !== appB || stageA !== stageB || tagA !== tagB || nA !== nB) {
          expect(a).not.toBe(rollbackExecutionName(appB, stageB, tagB, nB));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses an attempt outside 1 to 99', () => {
    expect(() => rollbackExecutionName('backend', 'staging', 'v2.1.5', 0)).toThrow(/1 to 99, got 0/);
    expect(() => rollbackExecutionName('backend', 'staging', 'v2.1.5', 100)).toThrow(/1 to 99, got 100/);
  });

  it('is always a valid name of at most 80 characters ending in its attempt, distinct per app, stage and tag', () => {
    fc.assert(
      fc.property(
        anyText,
        anyText,
        dockerTag,
        fc.integer({ min: 1, max: 99 }),
        (app, stage, tag, attempt) => {
          const name = rollbackExecutionName(app, stage, tag, attempt);
          expect(isValidExecutionName(name)).toBe(true);
          // After `-` in the plain form, `_` in the hashed one.
          expect(name).toMatch(new RegExp(`[-_]${attempt}$`));
          expect(rollbackExecutionName(app, stage, `${tag}x`, attempt)).not.toBe(name);
        },
      ),
    );
  });
});

describe('appNamePrefix', () => {
  it('is `<app>-` for an app name from the config', () => {
    expect(appNamePrefix('my')).toBe('my-');
    expect(appNamePrefix('my-app')).toBe('my-app-');
  });

  it('begins every name of the app: releases, rollbacks and their retries', () => {
    fc.assert(
      fc.property(
        fc.oneof(configApp, anyText),
        fc.oneof(dockerTag, anyText),
        fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,29}$/), anyText),
        hex64,
        fc.integer({ min: 2, max: 99 }),
        (app, tag, stage, hex, attempt) => {
          const prefix = appNamePrefix(app);
          const release = executionName(app, tag, `sha256:${hex}`);
          const rollback = rollbackExecutionName(app, stage, tag, 1);
          for (const name of [
            release,
            rollback,
            retryExecutionName(release, attempt),
            retryExecutionName(rollback, attempt),
          ]) {
            expect(name.startsWith(prefix)).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
