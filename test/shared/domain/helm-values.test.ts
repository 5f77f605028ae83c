import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  parseKeyPath,
  resolveKeyPath,
  setHelmValues,
  ValuesPathError,
} from '../../../shared/domain/helm-values.js';
import { YamlSyntaxError } from '../../../shared/domain/yaml-edit.js';

const VALUES = readFileSync(
  new URL('../../fixtures/gitops/helm/values-staging.yaml', import.meta.url),
  'utf8',
);
const FILE = 'charts/itdo-erp/values-staging.yaml';
const DIGEST = `sha256:${'cd'.repeat(32)}`;

function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  return after.split('\n').filter((line, index) => a[index] !== line);
}

describe('resolveKeyPath and parseKeyPath', () => {
  it('substitutes {app} with the app name', () => {
    expect(resolveKeyPath('{app}.image.tag', 'backend')).toBe('backend.image.tag');
  });

  it('splits keys on dots and reads list indexes', () => {
    expect(parseKeyPath('apps[2].image.tag')).toEqual(['apps', 2, 'image', 'tag']);
  });

  it('refuses an empty segment', () => {
    expect(() => parseKeyPath('backend..tag')).toThrow(ValuesPathError);
  });
});

describe('setHelmValues', () => {
  it('sets the tag in place, keeping quotes, comments and every other byte', () => {
    const result = setHelmValues(FILE, VALUES, { valuesPath: 'backend.image.tag', tag: 'v2.1.6' });

    expect(result.status).toBe('changed');
    expect(result.previousTag).toBe('v2.1.5');
    expect(result.content).toBe(VALUES.replace('    tag: "v2.1.5"', '    tag: "v2.1.6"'));
  });

  it('writes the digest at digestPath when the stage pins digests', () => {
    const result = setHelmValues(FILE, VALUES, {
      valuesPath: 'backend.image.tag',
      digestPath: 'backend.image.digest',
      tag: 'v2.1.6',
      digest: DIGEST,
    });

    expect(changedLines(VALUES, result.content)).toEqual(['    tag: "v2.1.6"', `    digest: "${DIGEST}"`]);
  });

  it('adds a missing digest key next to the tag with the same indentation', () => {
    const result = setHelmValues(FILE, VALUES, {
      valuesPath: 'frontend.image.tag',
      digestPath: 'frontend.image.digest',
      tag: 'v1.8.3',
      digest: DIGEST,
    });

    expect(result.content).toBe(
      `${VALUES.replace('    tag: v1.8.2\n', '    tag: v1.8.3\n')}    digest: ${DIGEST}\n`,
    );
  });

  it('empties a stale digest when the stage does not pin', () => {
    const pinned = VALUES.replace('digest: ""', `digest: "${DIGEST}"`);

    const result = setHelmValues(FILE, pinned, {
      valuesPath: 'backend.image.tag',
      digestPath: 'backend.image.digest',
      tag: 'v2.1.6',
    });

    expect(parse(result.content).backend.image).toMatchObject({ tag: 'v2.1.6', digest: '' });
  });

  it('is unchanged when the tag is current', () => {
    const result = setHelmValues(FILE, VALUES, { valuesPath: 'backend.image.tag', tag: 'v2.1.5' });

    expect(result).toEqual({
      status: 'unchanged',
      content: VALUES,
      previousTag: 'v2.1.5',
      previousDigest: null,
    });
  });

  it('refuses a missing key path, naming the file, the path and the missing key', () => {
    const act = () => setHelmValues(FILE, VALUES, { valuesPath: 'worker.image.tag', tag: 'v1.0.0' });

    expect(act).toThrow(ValuesPathError);
    expect(act).toThrow(
      'charts/itdo-erp/values-staging.yaml has no worker.image.tag (no key "worker" under the top level): add it, or set createIfMissing: true on the stage',
    );
  });

  it('creates missing keys at the file indentation when createIfMissing is set', () => {
    const result = setHelmValues(FILE, VALUES, {
      valuesPath: 'worker.image.tag',
      tag: 'v1.0.0',
      createIfMissing: true,
    });

    expect(result.content).toBe(`${VALUES}worker:\n  image:\n    tag: v1.0.0\n`);
    expect(result.previousTag).toBeNull();
  });

  it('edits flow maps and list items along the path', () => {
    const source = 'apps:\n  - name: api\n    image: {repository: r, tag: v1}\n';

    const result = setHelmValues('values.yaml', source, { valuesPath: 'apps[0].image.tag', tag: '2.0' });

    expect(result.content).toBe('apps:\n  - name: api\n    image: {repository: r, tag: "2.0"}\n');
  });

  it('refuses a path through a value that is not a map', () => {
    expect(() => setHelmValues(FILE, VALUES, { valuesPath: 'global.domain.tag', tag: 'v1' })).toThrow(
      'charts/itdo-erp/values-staging.yaml: global.domain is not a map',
    );
  });

  it('refuses to pin when the stage names no digestPath', () => {
    expect(() =>
      setHelmValues(FILE, VALUES, { valuesPath: 'backend.image.tag', tag: 'v1', digest: DIGEST }),
    ).toThrow(/pins digests but names no digestPath/);
  });

  it('reports invalid YAML with the file name', () => {
    expect(() => setHelmValues(FILE, 'a: [1\n', { valuesPath: 'a', tag: 'v1' })).toThrow(YamlSyntaxError);
  });

  it('changes only the target value in random values files, and is idempotent', () => {
    const keyArb = fc.constantFrom('backend', 'frontend', 'worker', 'api');
    const valueArb = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,8}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(keyArb, { minLength: 1, maxLength: 4 }),
        fc.array(valueArb, { minLength: 4, maxLength: 4 }),
        fc.constantFrom(2, 4),
        fc.nat(),
        valueArb,
        (apps, tags, step, pick, tag) => {
          const pad = (n: number) => ' '.repeat(n * step);
          const text = apps
            .map(
              (app, i) =>
                `# ${app}\n${app}:\n${pad(1)}image:\n${pad(2)}repository: ecr/${app}\n${pad(2)}tag: ${JSON.stringify(tags[i])}  # pinned\n${pad(1)}replicas: ${i}\n`,
            )
            .join('');
          const app = apps[pick % apps.length]!;
          const edit = { valuesPath: resolveKeyPath('{app}.image.tag', app), tag };

          const first = setHelmValues('values.yaml', text, edit);
          const second = setHelmValues('values.yaml', first.content, edit);

          const expected = parse(text);
          expected[app].image.tag = tag;
          expect(parse(first.content)).toEqual(expected);
          expect(first.content.split('\n').length).toBe(text.split('\n').length);
          expect(second.status).toBe('unchanged');
        },
      ),
      { numRuns: 100 },
    );
  });
});
