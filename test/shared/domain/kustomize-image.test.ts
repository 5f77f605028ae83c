import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ImageEntryMissingError, setKustomizeImage } from '../../../shared/domain/kustomize-image.js';
import { ManifestShapeError, YamlSyntaxError } from '../../../shared/domain/yaml-edit.js';

const fixture = (name: string) =>
  readFileSync(
    new URL(`../../fixtures/gitops/itdo-erp-infrastructure/environments/${name}`, import.meta.url),
    'utf8',
  );

const STAGING = fixture('staging/kustomization.yaml');
/** Written the way `kustomize edit` writes lists: not indented under the key. */
const PRODUCTION = [
  'apiVersion: kustomize.config.k8s.io/v1beta1',
  'kind: Kustomization',
  'resources:',
  '- ../../base',
  'images:',
  '- name: itdo-erp/backend',
  '  newTag: v2.1.4',
  `  digest: sha256:${'1'.repeat(64)}`,
  '- name: itdo-erp/frontend',
  '  newTag: v1.8.1',
  `  digest: sha256:${'2'.repeat(64)}`,
  '',
].join('\n');
const DEV = fixture('dev/kustomization.yaml');
const FILE = 'environments/staging/kustomization.yaml';
const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** Lines of `after` that differ from `before` (same line count assumed unless noted). */
function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  return b.filter((line, index) => a[index] !== line);
}

describe('setKustomizeImage', () => {
  it('sets newTag in place and leaves every other byte as it was', () => {
    // Act
    const result = setKustomizeImage(FILE, STAGING, { image: 'itdo-erp/backend', tag: 'v2.1.6' });

    // Assess
    expect(result.status).toBe('changed');
    expect(result.previousTag).toBe('v2.1.5');
    expect(result.content).toBe(
      STAGING.replace('newTag: v2.1.5 # promoted 2025-01-14', 'newTag: v2.1.6 # promoted 2025-01-14'),
    );
  });

  it('keeps the quoting style of the tag it replaces', () => {
    const result = setKustomizeImage(FILE, STAGING, { image: 'itdo-erp/frontend', tag: 'v1.8.3' });

    expect(changedLines(STAGING, result.content)).toEqual(['    newTag: "v1.8.3"']);
    expect(result.previousTag).toBe('v1.8.2');
  });

  it('quotes a tag that would otherwise read back as a number', () => {
    const result = setKustomizeImage(FILE, STAGING, { image: 'itdo-erp/backend', tag: '1.10' });

    expect(changedLines(STAGING, result.content)).toEqual(['    newTag: "1.10" # promoted 2025-01-14']);
    expect(parse(result.content).images[0].newTag).toBe('1.10');
  });

  it('leaves the file unchanged when the tag is current', () => {
    const result = setKustomizeImage(FILE, STAGING, { image: 'itdo-erp/frontend', tag: 'v1.8.2' });

    expect(result).toEqual({
      status: 'unchanged',
      content: STAGING,
      previousTag: 'v1.8.2',
      previousDigest: null,
    });
  });

  it('adds a pinned digest right after newTag with the entry indentation', () => {
    const result = setKustomizeImage(FILE, STAGING, {
      image: 'itdo-erp/backend',
      tag: 'v2.1.6',
      digest: DIGEST,
    });

    expect(result.content).toBe(
      STAGING.replace(
        '    newTag: v2.1.5 # promoted 2025-01-14\n',
        `    newTag: v2.1.6 # promoted 2025-01-14\n    digest: ${DIGEST}\n`,
      ),
    );
  });

  it('replaces a pinned digest in a file whose list is not indented', () => {
    const result = setKustomizeImage('environments/production/kustomization.yaml', PRODUCTION, {
      image: 'itdo-erp/backend',
      tag: 'v2.1.5',
      digest: DIGEST,
    });

    expect(changedLines(PRODUCTION, result.content)).toEqual(['  newTag: v2.1.5', `  digest: ${DIGEST}`]);
    expect(result.previousTag).toBe('v2.1.4');
  });

  it('removes a stale digest when the stage does not pin, as kustomize edit set image does', () => {
    const result = setKustomizeImage('environments/production/kustomization.yaml', PRODUCTION, {
      image: 'itdo-erp/frontend',
      tag: 'v1.8.2',
    });

    expect(result.content).toBe(
      PRODUCTION.replace(`  newTag: v1.8.1\n  digest: sha256:${'2'.repeat(64)}\n`, '  newTag: v1.8.2\n'),
    );
  });

  it('is unchanged when tag and pinned digest are current', () => {
    const digest = `sha256:${'1'.repeat(64)}`;
    const result = setKustomizeImage('p.yaml', PRODUCTION, {
      image: 'itdo-erp/backend',
      tag: 'v2.1.4',
      digest,
    });

    expect(result.status).toBe('unchanged');
  });

  it('leaves newName alone unless the app configures one', () => {
    const untouched = setKustomizeImage(FILE, STAGING, { image: 'itdo-erp/backend', tag: 'v2.1.6' });
    const moved = setKustomizeImage(FILE, STAGING, {
      image: 'itdo-erp/backend',
      tag: 'v2.1.6',
      newName: 'registry.example/backend',
    });

    expect(parse(untouched.content).images[0].newName).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/backend',
    );
    expect(changedLines(STAGING, moved.content)).toEqual([
      '    newName: registry.example/backend',
      '    newTag: v2.1.6 # promoted 2025-01-14',
    ]);
  });

  it('edits flow-style entries in place', () => {
    const result = setKustomizeImage('environments/dev/kustomization.yaml', DEV, {
      image: 'itdo-erp/frontend',
      tag: 'v1.9.0',
      digest: DIGEST,
    });

    expect(changedLines(DEV, result.content)).toEqual([
      `images: [{ name: itdo-erp/backend, newTag: v2.2.0-rc.1 }, { name: itdo-erp/frontend, newTag: v1.9.0, digest: ${DIGEST} }]`,
    ]);
  });

  it('refuses a missing entry, naming the file and the image', () => {
    const act = () => setKustomizeImage(FILE, STAGING, { image: 'itdo-erp/worker', tag: 'v1.0.0' });

    expect(act).toThrow(ImageEntryMissingError);
    expect(act).toThrow(
      'environments/staging/kustomization.yaml has no images entry for itdo-erp/worker: add "- name: itdo-erp/worker" under images:, or set createIfMissing: true on the stage',
    );
  });

  it('adds a missing entry in the list style of the file when createIfMissing is set', () => {
    const result = setKustomizeImage(FILE, STAGING, {
      image: 'itdo-erp/worker',
      tag: 'v1.0.0',
      digest: DIGEST,
      createIfMissing: true,
    });

    expect(result.status).toBe('changed');
    expect(result.previousTag).toBeNull();
    expect(result.content).toBe(
      STAGING.replace(
        '    newTag: "v1.8.2"\n',
        `    newTag: "v1.8.2"\n  - name: itdo-erp/worker\n    newTag: v1.0.0\n    digest: ${DIGEST}\n`,
      ),
    );
  });

  it('adds an images list when the kustomization has none and createIfMissing is set', () => {
    const source =
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n';

    const result = setKustomizeImage(FILE, source, {
      image: 'itdo-erp/backend',
      tag: 'v2.1.6',
      createIfMissing: true,
    });

    expect(result.content).toBe(`${source}images:\n  - name: itdo-erp/backend\n    newTag: v2.1.6\n`);
  });

  it('adds the entry when the file ends without a newline', () => {
    const source = 'images:\n- name: a\n  newTag: v1';

    const result = setKustomizeImage('k.yaml', source, { image: 'a', tag: 'v2', digest: DIGEST });

    expect(result.content).toBe(`images:\n- name: a\n  newTag: v2\n  digest: ${DIGEST}\n`);
  });

  it('keeps CRLF line endings, also on an added line', () => {
    const source = 'images:\r\n- name: a # api\r\n  newTag: v1\r\nresources: []\r\n';

    const result = setKustomizeImage('k.yaml', source, { image: 'a', tag: 'v2', digest: DIGEST });

    expect(result.content).toBe(
      `images:\r\n- name: a # api\r\n  newTag: v2\r\n  digest: ${DIGEST}\r\nresources: []\r\n`,
    );
  });

  it('fills an empty newTag and keeps the next key on its line', () => {
    const source = 'images:\n- name: a\n  newTag:\n  digest: sha256:old\nresources: []\n';

    const result = setKustomizeImage('k.yaml', source, { image: 'a', tag: 'v2' });

    expect(result.content).toBe('images:\n- name: a\n  newTag: v2\nresources: []\n');
  });

  it('reports invalid YAML with the file and the line', () => {
    const act = () =>
      setKustomizeImage(FILE, 'images:\n  - name: a\n   newTag: [v1\n', { image: 'a', tag: 'v2' });

    expect(act).toThrow(YamlSyntaxError);
    expect(act).toThrow(
      /^environments\/staging\/kustomization\.yaml is not valid YAML at line \d+, column \d+: /,
    );
  });

  it('refuses two entries for the same image', () => {
    const source = 'images:\n- name: a\n  newTag: v1\n- name: a\n  newTag: v2\n';

    expect(() => setKustomizeImage('k.yaml', source, { image: 'a', tag: 'v3' })).toThrow(
      'k.yaml has 2 images entries named a; keep one',
    );
  });

  it('refuses a file that is not a map', () => {
    expect(() => setKustomizeImage('k.yaml', '- a\n- b\n', { image: 'a', tag: 'v3' })).toThrow(
      ManifestShapeError,
    );
  });

  it('refuses an alias bomb as a terminal shape error instead of expanding it', () => {
    // Nine levels of nine aliases each: 9^9 nodes when expanded.
    const levels = ['l0: &l0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const aliases = Array(9)
        .fill(`*l${i - 1}`)
        .join(', ');
      levels.push(`l${i}: &l${i} [${aliases}]`);
    }
    const source = `${levels.join('\n')}\nimages:\n- name: a\n  newTag: v1\n`;

    expect(() => setKustomizeImage('k.yaml', source, { image: 'a', tag: 'v2' })).toThrow(ManifestShapeError);
    expect(() => setKustomizeImage('k.yaml', source, { image: 'a', tag: 'v2' })).toThrow(
      /k\.yaml cannot be read as data \(Excessive alias count/,
    );
  });

  it('refuses a file with several YAML documents', () => {
    expect(() => setKustomizeImage('k.yaml', 'a: 1\n---\nb: 2\n', { image: 'a', tag: 'v3' })).toThrow(
      'k.yaml holds 2 YAML documents; expected one',
    );
  });
});
