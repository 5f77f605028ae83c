import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BODY_LIMIT,
  type PullRequestFacts,
  plainMarkdown,
  pullRequestBody,
  pullRequestBranch,
  pullRequestBranchPrefix,
  pullRequestTitle,
  refComponent,
} from '../../../shared/domain/pull-request.js';

/** git's rules for a ref name (git help check-ref-format), for a branch under refs/heads/. */
function gitRefProblem(branch: string): string | null {
  if ([...branch].some((char) => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f))
    return 'a control character or space';
  if (/[~^:?*[\\]/.test(branch)) return 'a forbidden character';
  if (branch.includes('..')) return '..';
  if (branch.includes('@{') || branch === '@') return '@{';
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) return 'a slash';
  if (branch.endsWith('.')) return 'a trailing dot';
  for (const component of branch.split('/')) {
    if (component.startsWith('.')) return 'a component starting with a dot';
    if (component.endsWith('.lock')) return 'a component ending in .lock';
    if (Buffer.byteLength(component) > 250) return 'a component too long for a file name';
  }
  return null;
}

/** Undoes the encoding of a component that was not shortened (`%XX` UTF-8 bytes, `%uXXXX` lone surrogates). */
function decode(component: string): string {
  const units = component.split(/(%u[0-9A-F]{4})/);
  return units
    .map((unit) =>
      unit.startsWith('%u')
        ? String.fromCharCode(Number.parseInt(unit.slice(2), 16))
        : decodeURIComponent(unit),
    )
    .join('');
}

const anyText = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }),
);
const awkward = fc.string({
  minLength: 1,
  maxLength: 20,
  unit: fc.constantFrom(
    '.',
    '/',
    '@',
    '{',
    '~',
    '^',
    ':',
    '?',
    '*',
    '[',
    '\\',
    ' ',
    '%',
    'k',
    'l',
    'o',
    'c',
    'a',
    '\n',
    'é',
  ),
});
const part = fc.oneof(anyText, awkward);

describe('pullRequestBranch', () => {
  it('names the branch shiplane/<app>/<stage>/<tag> and keeps plain names as they are', () => {
    expect(pullRequestBranch('backend', 'production', 'v2.1.6')).toBe('shiplane/backend/production/v2.1.6');
    expect(pullRequestBranch('backend', 'production', 'v2.1.6-rc_1+b7')).toBe(
      'shiplane/backend/production/v2.1.6-rc_1+b7',
    );
    expect(pullRequestBranchPrefix('backend', 'production')).toBe('shiplane/backend/production/');
  });

  it('escapes what git refuses: ..  ~^:?*[\\  @{  a leading or trailing dot, .lock, slashes', () => {
    expect(refComponent('v1..2')).toBe('v1%2E.2');
    expect(refComponent('.hidden')).toBe('%2Ehidden');
    expect(refComponent('v1.')).toBe('v1%2E');
    expect(refComponent('v1.lock')).toBe('v1.loc%6B');
    expect(refComponent('a@{1}')).toBe('a%40%7B1%7D');
    expect(refComponent('x~^:?*[\\')).toBe('x%7E%5E%3A%3F%2A%5B%5C');
    expect(refComponent('team/app')).toBe('team%2Fapp');
    expect(refComponent('100%')).toBe('100%25');
    expect(refComponent('@')).toBe('%40');
    expect(refComponent('a\uD800')).toBe('a%uD800');
  });

  it('refuses an empty app, stage or tag', () => {
    expect(() => pullRequestBranch('backend', '', 'v1')).toThrow('a branch name component must not be empty');
  });

  it('gives a valid git ref for any app, stage and tag', () => {
    fc.assert(
      fc.property(part, part, part, (app, stage, tag) => {
        const branch = pullRequestBranch(app, stage, tag);
        expect(gitRefProblem(branch)).toBeNull();
        expect(branch.startsWith(pullRequestBranchPrefix(app, stage))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives distinct branches for distinct inputs (the encoding decodes back)', () => {
    fc.assert(
      fc.property(part, part, part, (app, stage, tag) => {
        const components = pullRequestBranch(app, stage, tag).split('/').slice(1);
        const inputs = [app, stage, tag];
        components.forEach((component, index) => {
          if (!component.includes('%h')) expect(decode(component)).toBe(inputs[index]);
        });
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.tuple(part, part, part), fc.tuple(part, part, part), (x, y) => {
        fc.pre(x.join('\0') !== y.join('\0'));
        expect(pullRequestBranch(...x)).not.toBe(pullRequestBranch(...y));
      }),
      { numRuns: 2000 },
    );
  });

  it('shortens a very long tag with a hash, still valid and distinct', () => {
    const long = 'v'.repeat(300);
    const branch = pullRequestBranch('backend', 'production', long);
    const other = pullRequestBranch('backend', 'production', `${long}x`);

    expect(branch.split('/')[3]).toMatch(/^v{80}%h[0-9a-f]{16}$/);
    expect(other).not.toBe(branch);
    expect(gitRefProblem(branch)).toBeNull();
    fc.assert(
      fc.property(fc.string({ minLength: 101, maxLength: 400, unit: part }), (tag) => {
        expect(gitRefProblem(pullRequestBranch('a', 'b', tag))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('satisfies git itself (git check-ref-format) on the awkward cases', () => {
    const tags = [
      'v1..2',
      '.x',
      'x.',
      'x.lock',
      '@',
      'a@{b',
      'sp ace',
      'x~^:?*[\\',
      'a/b',
      'é',
      'v'.repeat(300),
      '...',
    ];
    for (const tag of tags) {
      expect(() =>
        execFileSync('git', [
          'check-ref-format',
          `refs/heads/${pullRequestBranch('back.end', '.prod', tag)}`,
        ]),
      ).not.toThrow();
    }
  });
});

describe('pullRequestTitle', () => {
  it('says promote or roll back, with app, tag and stage', () => {
    expect(pullRequestTitle({ app: 'backend', tag: 'v2.1.6', stage: 'production' })).toBe(
      'Promote backend v2.1.6 to production',
    );
    expect(pullRequestTitle({ app: 'backend', tag: 'v2.1.5', stage: 'production', rollback: true })).toBe(
      'Roll back backend to v2.1.5 in production',
    );
  });

  it('stays within GitHub’s 256 characters', () => {
    expect(pullRequestTitle({ app: 'a'.repeat(300), tag: 'v1', stage: 'p' })).toHaveLength(256);
  });
});

const facts: PullRequestFacts = {
  app: 'backend',
  stage: 'production',
  tag: 'v2.1.6',
  digest: `sha256:${'a'.repeat(64)}`,
  image: 'itdo-erp/backend',
  evidence: [
    {
      stage: 'staging',
      commit: '1234567890abcdef1234567890abcdef12345678',
      syncRevision: '1234567890abcdef1234567890abcdef12345678',
      healthyAt: '2025-01-15T09:40:00Z',
    },
  ],
  approval: {
    by: 'U024BE7LH',
    byName: 'Alice',
    at: '2025-01-15T10:00:00Z',
    via: 'slack',
    reason: 'Release train',
  },
  run: {
    execution: 'backend-v2-1-6-abc',
    url: 'https://console.aws.amazon.com/states/home#/v2/executions/details/arn',
  },
};

describe('pullRequestBody', () => {
  it('carries the release facts: digest, staging evidence, the approval, the run', () => {
    expect(pullRequestBody(facts)).toBe(
      [
        'Shiplane promotes **backend** `v2.1.6` to **production**.',
        '',
        '### Release',
        '',
        '| | |',
        '|---|---|',
        '| Image | `itdo-erp/backend:v2.1.6` |',
        '| Tag | `v2.1.6` |',
        `| Digest | \`sha256:${'a'.repeat(64)}\` |`,
        '',
        '### Evidence from earlier stages',
        '',
        '- **staging**: commit `1234567890ab`, Argo CD synced `1234567890ab`, healthy at 2025-01-15T09:40:00Z',
        '',
        '### Approval',
        '',
        '- Approved by Alice (`U024BE7LH`) at 2025-01-15T10:00:00Z via slack',
        '- Reason: Release train',
        '',
        '### Run',
        '',
        '- [`backend-v2-1-6-abc`](https://console.aws.amazon.com/states/home#/v2/executions/details/arn)',
        '',
      ].join('\n'),
    );
  });

  it('marks a rollback, break glass, and that a manual merge is awaited', () => {
    const body = pullRequestBody({
      ...facts,
      tag: 'v2.1.5',
      rollback: { fromTag: 'v2.1.6', reason: 'error rate up', by: 'alice' },
      approval: {
        by: 'alice',
        at: '2025-01-15T10:00:00Z',
        breakGlass: { until: '2025-01-16T00:00:00Z', freeze: 'Year-end' },
      },
      manualMerge: true,
      run: { execution: 'rollback-1' },
    });

    expect(body).toContain(
      '**Rollback**: Shiplane rolls back **backend** to `v2.1.5` in **production** (from `v2.1.6`).',
    );
    expect(body).toContain('Reason: error rate up\nAsked by: alice');
    expect(body).toContain('> Recovery waits for this pull request to be merged.');
    expect(body).toContain(
      '- **Break glass**: approved during the change freeze Year-end (until 2025-01-16T00:00:00Z)',
    );
    expect(body).toContain('### Run\n\n- `rollback-1`\n');
  });

  it('shows free text literally: no links, HTML or @mentions from a reason', () => {
    const body = pullRequestBody({
      ...facts,
      approval: {
        by: 'alice',
        at: '2025-01-15T10:00:00Z',
        reason: '[click](https://evil) <img src=x> @org/team\nsecond line',
      },
      run: { execution: 'x', url: 'javascript:alert(1)' },
    });

    expect(body).toContain('- Reason: \\[click\\]\\(https://evil\\) \\<img src=x\\> \\@org/team second line');
    expect(body).toContain('- `x`');
    expect(plainMarkdown('a_b*c`d')).toBe('a\\_b\\*c\\`d');
  });

  it('cuts a body over GitHub’s 65,536 characters and says so', () => {
    const body = pullRequestBody({ ...facts, approval: { ...facts.approval!, reason: 'x'.repeat(70_000) } });

    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(body).toMatch(/…\n\n_Shiplane cut this description at GitHub's limit of 65,536 characters\._\n$/);
    expect(body.startsWith('Shiplane promotes **backend**')).toBe(true);
  });
});
