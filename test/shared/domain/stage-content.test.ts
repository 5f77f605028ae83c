import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readHelmValue, setHelmValues, ValuesPathError } from '../../../shared/domain/helm-values.js';
import { readKustomizeImage, setKustomizeImage } from '../../../shared/domain/kustomize-image.js';
import {
  judgeStageContent,
  type PinnedRelease,
  replacedMessage,
  type StageFileSettings,
} from '../../../shared/domain/stage-content.js';
import { ManifestShapeError } from '../../../shared/domain/yaml-edit.js';

const fixture = (path: string) =>
  readFileSync(new URL(`../../fixtures/gitops/${path}`, import.meta.url), 'utf8');
const KUSTOMIZATION = fixture('itdo-erp-infrastructure/environments/staging/kustomization.yaml');
const VALUES = fixture('helm/values-staging.yaml');
const FILE = 'environments/staging/kustomization.yaml';
const VALUES_FILE = 'charts/itdo-erp/values-staging.yaml';
const OUR_DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER_DIGEST = `sha256:${'cd'.repeat(32)}`;

const release: PinnedRelease = {
  app: 'backend',
  image: 'itdo-erp/backend',
  tag: 'v2.2.0',
  digest: OUR_DIGEST,
};
const kustomize: StageFileSettings = { stage: 'staging', file: FILE, pinDigest: false };
const pinned: StageFileSettings = { ...kustomize, pinDigest: true };
const helm: StageFileSettings = {
  stage: 'staging',
  file: VALUES_FILE,
  pinDigest: true,
  valuesPath: '{app}.image.tag',
  digestPath: '{app}.image.digest',
};

/** The staging kustomization with the backend entry as a commit would leave it. */
function staging(tag: string, digest?: string, image = 'itdo-erp/backend'): string {
  return setKustomizeImage(FILE, KUSTOMIZATION, { image, tag, digest }).content;
}

function values(tag: string, digest?: string): string {
  return setHelmValues(VALUES_FILE, VALUES, {
    valuesPath: 'backend.image.tag',
    digestPath: 'backend.image.digest',
    tag,
    digest,
  }).content;
}

describe('readKustomizeImage', () => {
  it('reads the entry an edit wrote', () => {
    expect(readKustomizeImage(FILE, staging('v2.2.0', OUR_DIGEST), 'itdo-erp/backend')).toEqual({
      newName: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/backend',
      newTag: 'v2.2.0',
      digest: OUR_DIGEST,
    });
  });

  it('is null when the image has no entry, and refuses two entries for it', () => {
    expect(readKustomizeImage(FILE, KUSTOMIZATION, 'itdo-erp/worker')).toBeNull();
    const twice = `images:\n  - name: itdo-erp/backend\n    newTag: v1\n  - name: itdo-erp/backend\n    newTag: v2\n`;
    expect(() => readKustomizeImage(FILE, twice, 'itdo-erp/backend')).toThrow(ManifestShapeError);
  });
});

describe('readHelmValue', () => {
  it('reads the value at a key path; an empty value is null', () => {
    expect(readHelmValue(VALUES_FILE, VALUES, 'backend.image.tag')).toBe('v2.1.5');
    expect(readHelmValue(VALUES_FILE, VALUES, 'backend.image.digest')).toBeNull();
    expect(readHelmValue(VALUES_FILE, VALUES, 'worker.image.tag')).toBeNull();
  });

  it('refuses a path that ends in a map', () => {
    expect(() => readHelmValue(VALUES_FILE, VALUES, 'backend.image')).toThrow(ValuesPathError);
  });
});

describe('judgeStageContent', () => {
  describe('a kustomization', () => {
    it('is ours when the entry pins our tag', () => {
      expect(judgeStageContent(staging('v2.2.0'), kustomize, release)).toEqual({ status: 'ours' });
    });

    it('is ours when the stage pins digests and the entry pins our tag and digest', () => {
      expect(judgeStageContent(staging('v2.2.0', OUR_DIGEST), pinned, release)).toEqual({ status: 'ours' });
    });

    it('is ours when another app changed and ours did not', () => {
      const both = setKustomizeImage(FILE, staging('v2.2.0'), { image: 'itdo-erp/frontend', tag: 'v1.9.0' });

      expect(judgeStageContent(both.content, kustomize, release)).toEqual({ status: 'ours' });
    });

    it('is newer when a newer release replaced our tag, whatever its digest', () => {
      expect(judgeStageContent(staging('v2.2.1', OTHER_DIGEST), pinned, release)).toEqual({
        status: 'newer',
        tag: 'v2.2.1',
      });
    });

    it('is changed when a revert put an older tag back', () => {
      expect(judgeStageContent(KUSTOMIZATION, kustomize, release)).toEqual({
        status: 'changed',
        tag: 'v2.1.5',
        digest: null,
        newName: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/backend',
      });
    });

    it('is changed when a hand edit changed the digest under our tag', () => {
      expect(judgeStageContent(staging('v2.2.0', OTHER_DIGEST), pinned, release)).toMatchObject({
        status: 'changed',
        tag: 'v2.2.0',
        digest: OTHER_DIGEST,
      });
    });

    it('is changed when a pinned digest was removed', () => {
      expect(judgeStageContent(staging('v2.2.0'), pinned, release)).toMatchObject({
        status: 'changed',
        tag: 'v2.2.0',
        digest: null,
      });
    });

    it('is changed when a digest was added by hand to a stage that pins tags only', () => {
      expect(judgeStageContent(staging('v2.2.0', OTHER_DIGEST), kustomize, release)).toMatchObject({
        status: 'changed',
        digest: OTHER_DIGEST,
      });
    });

    it('is changed when the same version with another suffix replaced it (not a newer release)', () => {
      expect(judgeStageContent(staging('v2.2.0-hotfix1'), kustomize, release)).toMatchObject({
        status: 'changed',
        tag: 'v2.2.0-hotfix1',
      });
    });

    it('is changed when the image name moved to another registry while the app sets newName', () => {
      const ours = { ...release, newName: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/backend' };
      const moved = setKustomizeImage(FILE, staging('v2.2.0'), {
        image: 'itdo-erp/backend',
        newName: 'evil.example.com/backend',
        tag: 'v2.2.0',
      }).content;

      expect(judgeStageContent(staging('v2.2.0'), kustomize, ours)).toEqual({ status: 'ours' });
      expect(judgeStageContent(moved, kustomize, ours)).toMatchObject({
        status: 'changed',
        newName: 'evil.example.com/backend',
      });
    });

    it('is changed with no tag when the entry was removed', () => {
      const removed = KUSTOMIZATION.replace(
        / {2}# API server \(Go\)\n {2}- name: itdo-erp\/backend\n.*\n.*\n/,
        '',
      );
      expect(removed).not.toContain('itdo-erp/backend');

      expect(judgeStageContent(removed, kustomize, release)).toEqual({
        status: 'changed',
        tag: null,
        digest: null,
        newName: null,
      });
    });

    it('is changed when the file was deleted or left unreadable', () => {
      expect(judgeStageContent(null, kustomize, release)).toMatchObject({
        status: 'changed',
        tag: null,
        problem: `deleted ${FILE}`,
      });
      expect(judgeStageContent('images: [\n', kustomize, release)).toMatchObject({
        status: 'changed',
        tag: null,
        problem: expect.stringMatching(
          /^left environments\/staging\/kustomization\.yaml unreadable \(.*not valid YAML/,
        ),
      });
    });
  });

  describe('Helm values', () => {
    it('is ours when the valuesPath and digestPath hold our tag and digest', () => {
      expect(judgeStageContent(values('v2.2.0', OUR_DIGEST), helm, release)).toEqual({ status: 'ours' });
    });

    it('checks only the tag when the stage names no digestPath', () => {
      const tagOnly = { ...helm, pinDigest: false, digestPath: undefined };

      expect(judgeStageContent(values('v2.2.0', OTHER_DIGEST), tagOnly, release)).toEqual({ status: 'ours' });
    });

    it('is newer, or changed, by what the valuesPath holds', () => {
      expect(judgeStageContent(values('v2.3.0', OTHER_DIGEST), helm, release)).toEqual({
        status: 'newer',
        tag: 'v2.3.0',
      });
      expect(judgeStageContent(VALUES, helm, release)).toEqual({
        status: 'changed',
        tag: 'v2.1.5',
        digest: null,
        newName: null,
      });
      expect(judgeStageContent(values('v2.2.0', OTHER_DIGEST), helm, release)).toMatchObject({
        status: 'changed',
        digest: OTHER_DIGEST,
      });
    });

    it('is ours when another app changed and ours did not', () => {
      const both = setHelmValues(VALUES_FILE, values('v2.2.0', OUR_DIGEST), {
        valuesPath: 'frontend.image.tag',
        tag: 'v1.9.0',
      }).content;

      expect(judgeStageContent(both, helm, release)).toEqual({ status: 'ours' });
    });
  });
});

describe('replacedMessage', () => {
  const by = '1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b';
  const changed = (content: Partial<{ tag: string | null; digest: string | null; problem: string }>) => ({
    stage: 'staging',
    release,
    by,
    content: { status: 'changed' as const, tag: null, digest: null, newName: null, ...content },
  });

  it('names the commit and the tag it put back', () => {
    expect(replacedMessage(changed({ tag: 'v2.1.5' }))).toBe(
      'staging no longer runs backend v2.2.0: 1a2b3c4 changed it to v2.1.5',
    );
  });

  it('names the digest when only the digest changed, or went missing', () => {
    expect(replacedMessage(changed({ tag: 'v2.2.0', digest: OTHER_DIGEST }))).toBe(
      `staging no longer runs backend v2.2.0: 1a2b3c4 changed it to v2.2.0@${OTHER_DIGEST}`,
    );
    expect(replacedMessage(changed({ tag: 'v2.2.0' }))).toBe(
      'staging no longer runs backend v2.2.0: 1a2b3c4 changed it to v2.2.0 without its digest',
    );
  });

  it('says when the entry or the file is gone', () => {
    expect(replacedMessage(changed({}))).toBe(
      'staging no longer runs backend v2.2.0: 1a2b3c4 removed its entry',
    );
    expect(replacedMessage(changed({ problem: `deleted ${FILE}` }))).toBe(
      `staging no longer runs backend v2.2.0: 1a2b3c4 deleted ${FILE}`,
    );
  });
});
