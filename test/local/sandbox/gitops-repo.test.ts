import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  commitLog,
  currentTags,
  git,
  headOf,
  SEED_TAGS,
  seedGitopsRepository,
} from '../../../local/sandbox/gitops-repo.js';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'shiplane-repo-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('seedGitopsRepository', () => {
  it('creates a real git repository with the ITDO ERP layout in one commit on main', async () => {
    // Act
    const seeded = await seedGitopsRepository(join(work, 'repo'));

    // Assess
    const files = (await git(seeded.dir, ['ls-tree', '-r', '--name-only', 'main'])).trim().split('\n');
    expect(files).toEqual([
      'README.md',
      'base/backend.yaml',
      'base/frontend.yaml',
      'base/kustomization.yaml',
      'environments/dev/kustomization.yaml',
      'environments/production/kustomization.yaml',
      'environments/staging/kustomization.yaml',
    ]);
    expect(seeded.head).toMatch(/^[0-9a-f]{40}$/);
    expect(await headOf(seeded.dir)).toBe(seeded.head);
    const log = await commitLog(seeded.dir);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ author: 'ITDO ERP Platform', sha: seeded.head });
  });

  it('pins backend and frontend images in every environment overlay', async () => {
    const seeded = await seedGitopsRepository(join(work, 'repo'));

    const staging = await readFile(join(seeded.dir, 'environments/staging/kustomization.yaml'), 'utf8');
    expect(staging).toContain('- name: itdo-erp/backend\n');
    expect(staging).toContain(`newTag: ${SEED_TAGS.staging.backend}\n`);
    expect(await currentTags(seeded.dir)).toEqual({
      dev: { backend: 'v2.1.6', frontend: 'v1.8.1' },
      staging: { backend: 'v2.1.5', frontend: 'v1.8.1' },
      production: { backend: 'v2.1.5', frontend: 'v1.8.0' },
    });
  });

  it('starts over from the seed when the repository already exists (a second start works)', async () => {
    const dir = join(work, 'repo');
    await seedGitopsRepository(dir);
    await writeFile(join(dir, 'stray.txt'), 'left from last time');
    await git(dir, ['add', 'stray.txt']);
    await git(dir, ['commit', '-q', '-m', 'A change from the previous session']);

    await seedGitopsRepository(dir);

    expect(await commitLog(dir)).toHaveLength(1);
  });
});

describe('commitLog and currentTags', () => {
  it('list the newest commit first with its message and files, and read tags from the branch head', async () => {
    const { dir } = await seedGitopsRepository(join(work, 'repo'));
    const file = join(dir, 'environments/staging/kustomization.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('newTag: v2.1.5', 'newTag: v2.1.6'));
    await git(dir, [
      'commit',
      '-q',
      '-am',
      'Promote backend v2.1.6 to staging\n\nShiplane-Execution: backend-v2.1.6-abc',
    ]);

    const log = await commitLog(dir);

    expect(log[0]).toMatchObject({
      subject: 'Promote backend v2.1.6 to staging',
      body: 'Shiplane-Execution: backend-v2.1.6-abc',
      files: ['environments/staging/kustomization.yaml'],
    });
    expect((await currentTags(dir)).staging).toEqual({ backend: 'v2.1.6', frontend: 'v1.8.1' });
  });

  it('reports no tag for an environment whose overlay is missing', async () => {
    const { dir } = await seedGitopsRepository(join(work, 'repo'));
    await git(dir, ['rm', '-q', 'environments/dev/kustomization.yaml']);
    await git(dir, ['commit', '-q', '-m', 'Drop dev']);

    expect((await currentTags(dir)).dev).toEqual({ backend: null, frontend: null });
  });
});
