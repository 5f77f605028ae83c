import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { GitHubServer } from '../../../../local/stand-ins/github/index.js';
import { githubRepository } from '../../../../shared/adapters/github/repository.js';
import {
  GitOpsFileMissingError,
  InvalidGitOpsPathError,
  OlderReleaseError,
  RollbackRefusedError,
} from '../../../../shared/domain/apply-change.js';
import { ImageEntryMissingError } from '../../../../shared/domain/kustomize-image.js';
import { YamlSyntaxError } from '../../../../shared/domain/yaml-edit.js';
import {
  BranchContentionError,
  type CommitItem,
  commitBatch,
  ReplacedInBatchError,
} from '../../../../shared/steps/commit/commit-batch.js';
import {
  connect,
  imageRequest,
  PRODUCTION,
  REPOSITORY,
  rollbackRequest,
  STAGING,
  startItdoGitHub,
} from './support.js';

let server: GitHubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const noWait = { sleep: async () => undefined, random: () => 0.5 };

async function setUp(extra?: Record<string, string>) {
  server = await startItdoGitHub(extra ? { extra } : {});
  const github = await connect(server);
  return { server, repository: githubRepository(github.octokit, REPOSITORY) };
}

function item(id: string, request: ReturnType<typeof imageRequest>): CommitItem {
  return { id, execution: request.execution, change: request.change };
}

const imagesOf = async (server: GitHubServer, file = STAGING) =>
  (
    parse((await server.readFile(file)) ?? '') as {
      images: { name: string; newTag: string; digest?: string }[];
    }
  ).images;

describe('commitBatch', () => {
  it('applies several changes to one file in one commit whose message lists them with trailers', async () => {
    const { server, repository } = await setUp();
    const before = await server.head();

    const outcome = await commitBatch(
      repository,
      'main',
      [
        item('1', imageRequest('backend', 'v2.1.6', { hex: 'b' })),
        item('2', imageRequest('frontend', 'v1.8.3', { hex: 'f' })),
      ],
      noWait,
    );

    expect(outcome.commit).toBe(await server.head());
    expect(outcome.attempts).toBe(1);
    expect(outcome.items).toEqual([
      { id: '1', status: 'committed', commit: outcome.commit, previousTag: 'v2.1.5', previousDigest: null },
      { id: '2', status: 'committed', commit: outcome.commit, previousTag: 'v1.8.2', previousDigest: null },
    ]);
    expect((await imagesOf(server)).map((image) => image.newTag)).toEqual(['v2.1.6', 'v1.8.3']);
    expect(await server.git('log', '-1', '--format=%B', 'main')).toBe(
      [
        'Promote 2 images to staging',
        '',
        '- Promote backend v2.1.6 to staging',
        '- Promote frontend v1.8.3 to staging',
        '',
        `Shiplane-Execution: backend-v2.1.6-${'b'.repeat(12)}`,
        `Image-Digest: sha256:${'b'.repeat(64)}`,
        `Shiplane-Execution: frontend-v1.8.3-${'f'.repeat(12)}`,
        `Image-Digest: sha256:${'f'.repeat(64)}`,
        '',
        '',
      ].join('\n'),
    );
    expect((await server.git('log', '--format=%H', `${before}..main`)).trim().split('\n')).toHaveLength(1);
  });

  it('writes nothing when every change is already in place', async () => {
    const { server, repository } = await setUp();
    const head = await server.head();
    server.resetStats();

    const outcome = await commitBatch(
      repository,
      'main',
      [item('1', imageRequest('backend', 'v2.1.5'))],
      noWait,
    );

    expect(outcome).toEqual({
      commit: null,
      head,
      attempts: 1,
      items: [{ id: '1', status: 'unchanged', commit: head, previousTag: 'v2.1.5', previousDigest: null }],
    });
    expect(server.stats.contentCreating).toBe(0);
  });

  it('answers an unchanged change with the commit that last changed its file, not a later unrelated head', async () => {
    const { server, repository } = await setUp();
    const lastChange = await server.head();
    const unrelated = await server.commitAs({ 'README.md': 'someone else was here\n' });

    const outcome = await commitBatch(
      repository,
      'main',
      [item('1', imageRequest('backend', 'v2.1.5'))],
      noWait,
    );

    expect(outcome.head).toBe(unrelated);
    expect(outcome.items).toEqual([
      { id: '1', status: 'unchanged', commit: lastChange, previousTag: 'v2.1.5', previousDigest: null },
    ]);
  });

  it('fails only the changes that cannot apply, and commits the rest', async () => {
    const { server, repository } = await setUp({ 'environments/qa/kustomization.yaml': 'images: [\n' });

    const outcome = await commitBatch(
      repository,
      'main',
      [
        item('good', imageRequest('backend', 'v2.1.6')),
        item('missing-entry', imageRequest('worker', 'v1.0.0')),
        item('bad-yaml', imageRequest('backend', 'v2.1.6', { stage: 'qa' })),
        item('missing-file', imageRequest('backend', 'v2.1.6', { stage: 'dev-eu' })),
        item('bad-path', {
          ...imageRequest('backend', 'v2.1.6'),
          change: { ...imageRequest('backend', 'v2.1.6').change, file: '../outside.yaml' },
        }),
      ],
      noWait,
    );

    const [good, ...bad] = outcome.items;
    expect(good).toMatchObject({ id: 'good', status: 'committed', commit: await server.head() });
    expect(bad.map((o) => (o.status === 'failed' ? o.error.constructor : o.status))).toEqual([
      ImageEntryMissingError,
      YamlSyntaxError,
      GitOpsFileMissingError,
      InvalidGitOpsPathError,
    ]);
    expect(bad[0]).toMatchObject({
      error: { message: expect.stringContaining(`${STAGING} has no images entry for itdo-erp/worker`) },
    });
    expect((await imagesOf(server))[0]?.newTag).toBe('v2.1.6');
    expect(await server.git('log', '-1', '--format=%s', 'main')).toBe('Promote backend v2.1.6 to staging\n');
  });

  it('re-reads and re-applies when another writer moves the branch first, losing nobody’s update', async () => {
    const { server, repository } = await setUp();
    server.before({ method: 'PATCH', path: '/git/refs/heads/main' }, async () => {
      const text = (await server.readFile(STAGING))!.replace('newTag: "v1.8.2"', 'newTag: "v1.9.0"');
      await server.commitAs(
        { [STAGING]: text },
        { message: 'Promote frontend v1.9.0 to staging (by hand)\n' },
      );
    });
    const conflicts: number[] = [];

    const outcome = await commitBatch(repository, 'main', [item('1', imageRequest('backend', 'v2.1.6'))], {
      ...noWait,
      onConflict: (attempt) => conflicts.push(attempt),
    });

    expect(outcome.attempts).toBe(2);
    expect(conflicts).toEqual([1]);
    expect((await imagesOf(server)).map((image) => image.newTag)).toEqual(['v2.1.6', 'v1.9.0']);
    expect(await server.git('log', '--format=%s', '-2', 'main')).toBe(
      'Promote backend v2.1.6 to staging\nPromote frontend v1.9.0 to staging (by hand)\n',
    );
  });

  it('gives up after the last attempt when the branch keeps moving, leaving it as the others left it', async () => {
    const { server, repository } = await setUp();
    server.before(
      { method: 'PATCH', path: '/git/refs/heads/main' },
      async () => {
        await server.commitAs({ 'README.md': `${Math.random()}\n` });
      },
      3,
    );
    const waits: number[] = [];

    const error = await commitBatch(repository, 'main', [item('1', imageRequest('backend', 'v2.1.6'))], {
      maxAttempts: 3,
      backoffBaseMs: 100,
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
      },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BranchContentionError);
    expect(waits).toEqual([50, 100]);
    expect((await imagesOf(server))[0]?.newTag).toBe('v2.1.5');
  });

  it('sets a Helm values tag and pinned digest through valuesPath and digestPath with {app}', async () => {
    const values =
      'backend:\n  image:\n    repository: ecr/backend\n    tag: v2.1.5 # current\n    digest: ""\n';
    const { server, repository } = await setUp({ 'charts/itdo-erp/values-staging.yaml': values });
    const request = imageRequest('backend', 'v2.1.6', {
      file: 'charts/itdo-erp/values-staging.yaml',
      valuesPath: '{app}.image.tag',
      digestPath: '{app}.image.digest',
      pinDigest: true,
      hex: 'd',
    });

    const outcome = await commitBatch(repository, 'main', [item('1', request)], noWait);

    expect(outcome.items[0]).toMatchObject({ status: 'committed', previousTag: 'v2.1.5' });
    expect(await server.readFile('charts/itdo-erp/values-staging.yaml')).toBe(
      values
        .replace('tag: v2.1.5 # current', 'tag: v2.1.6 # current')
        .replace('digest: ""', `digest: "sha256:${'d'.repeat(64)}"`),
    );
  });

  it('pins the digest in a kustomization when the stage asks for it', async () => {
    const { server, repository } = await setUp();

    await commitBatch(
      repository,
      'main',
      [item('1', imageRequest('backend', 'v2.1.5', { stage: 'production', pinDigest: true, hex: 'e' }))],
      noWait,
    );

    expect((await imagesOf(server, PRODUCTION))[0]).toMatchObject({
      newTag: 'v2.1.5',
      digest: `sha256:${'e'.repeat(64)}`,
    });
  });

  it('writes and deletes whole files for secret sync, in the same commit as promotions', async () => {
    const { server, repository } = await setUp();
    const secrets: CommitItem = {
      id: 'sync',
      change: {
        kind: 'file',
        stage: 'production',
        file: 'environments/production/external-secrets.yaml',
        content: 'apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\n',
        summary: 'Sync external secrets for production (1 changed)',
      },
    };
    const removal: CommitItem = {
      id: 'remove',
      change: {
        kind: 'file',
        stage: 'staging',
        file: 'environments/staging/replicas.yaml',
        content: null,
        summary: 'Remove replicas patch',
      },
    };

    const outcome = await commitBatch(
      repository,
      'main',
      [secrets, removal, item('1', imageRequest('backend', 'v2.1.6'))],
      noWait,
    );

    expect(outcome.items.map((o) => o.status)).toEqual(['committed', 'committed', 'committed']);
    expect(await server.readFile('environments/production/external-secrets.yaml')).toContain(
      'kind: ExternalSecret',
    );
    expect(await server.readFile('environments/staging/replicas.yaml')).toBeNull();
    expect((await server.git('log', '-1', '--format=%s', 'main')).trim()).toBe(
      'Promote 1 image to staging, sync 2 files for production and staging',
    );
  });

  it('applies two promotions of the same app in queue order; the one the later replaces fails, for it never reaches the branch', async () => {
    const { server, repository } = await setUp();

    const outcome = await commitBatch(
      repository,
      'main',
      [item('1', imageRequest('backend', 'v2.1.6')), item('2', imageRequest('backend', 'v2.1.7'))],
      noWait,
    );

    // Its run would otherwise wait for this commit and report v2.1.6 healthy while v2.1.7 rolls out.
    expect(outcome.items[0]).toMatchObject({
      id: '1',
      status: 'failed',
      error: expect.any(ReplacedInBatchError),
    });
    expect(outcome.items[0]?.status === 'failed' && outcome.items[0].error.message).toBe(
      'itdo-erp/backend v2.1.6 was replaced in the same commit to environments/staging/kustomization.yaml by a later release (v2.1.7); it is not deployed to staging',
    );
    expect(outcome.items[0]?.status === 'failed' && outcome.items[0].error).toMatchObject({
      newerTag: 'v2.1.7',
    });
    expect(outcome.items[1]).toEqual({
      id: '2',
      status: 'committed',
      commit: outcome.commit,
      previousTag: 'v2.1.6',
      previousDigest: null,
    });
    expect((await imagesOf(server))[0]?.newTag).toBe('v2.1.7');
    expect(await server.git('log', '-1', '--format=%s', 'main')).toBe('Promote backend v2.1.7 to staging\n');
  });

  it('fails an older release queued after a newer one instead of moving the stage back', async () => {
    const { server, repository } = await setUp();

    const outcome = await commitBatch(
      repository,
      'main',
      [item('1', imageRequest('backend', 'v2.1.7')), item('2', imageRequest('backend', 'v2.1.6'))],
      noWait,
    );

    expect(outcome.items.map((o) => o.status)).toEqual(['committed', 'failed']);
    expect(outcome.items[1]).toMatchObject({ status: 'failed', error: expect.any(OlderReleaseError) });
    expect((await imagesOf(server))[0]?.newTag).toBe('v2.1.7');
  });
});

describe('commitBatch with a rollback', () => {
  const reason = `staging is Degraded at ${'1'.repeat(40)}: Deployment "backend"\nexceeded its progress deadline`;

  it("commits the rollback of the run's own entry: the earlier file back byte for byte, a message naming the run and the reason", async () => {
    const { server, repository } = await setUp();
    const original = await server.readFile(STAGING);
    const bad = imageRequest('backend', 'v2.1.7-bad', { hex: 'b' });
    await commitBatch(repository, 'main', [item('1', bad)], noWait);

    const outcome = await commitBatch(
      repository,
      'main',
      [item('2', rollbackRequest(bad, { tag: 'v2.1.5' }, reason))],
      noWait,
    );

    expect(outcome.items).toEqual([
      {
        id: '2',
        status: 'committed',
        commit: await server.head(),
        previousTag: 'v2.1.7-bad',
        previousDigest: null,
      },
    ]);
    expect(await server.readFile(STAGING)).toBe(original);
    expect(await server.git('log', '-1', '--format=%B', 'main')).toBe(
      [
        'Roll back backend v2.1.7-bad → v2.1.5 in staging',
        '',
        `Shiplane-Execution: backend-v2.1.7-bad-${'b'.repeat(12)}`,
        `Shiplane-Rollback-Of: backend-v2.1.7-bad-${'b'.repeat(12)}`,
        `Shiplane-Rollback-Reason: staging is Degraded at ${'1'.repeat(40)}: Deployment "backend" exceeded its progress deadline`,
        `Rolled-Back-Digest: sha256:${'b'.repeat(64)}`,
        '',
        '',
      ].join('\n'),
    );
  });

  it('refuses a rollback sent by another run than the one it names, and commits nothing', async () => {
    const { server, repository } = await setUp();
    const bad = imageRequest('backend', 'v2.1.7-bad', { hex: 'b' });
    await commitBatch(repository, 'main', [item('1', bad)], noWait);
    const head = await server.head();
    const forged = { ...rollbackRequest(bad, { tag: 'v2.1.5' }), execution: 'frontend-v1.8.3-ffffffffffff' };

    const outcome = await commitBatch(repository, 'main', [item('2', forged)], noWait);

    expect(outcome.commit).toBeNull();
    const [result] = outcome.items;
    expect(result?.status === 'failed' && result.error).toBeInstanceOf(RollbackRefusedError);
    expect(result?.status === 'failed' && result.error.message).toBe(
      `the rollback of backend-v2.1.7-bad-${'b'.repeat(12)}'s itdo-erp/backend v2.1.7-bad in staging was sent by run frontend-v1.8.3-ffffffffffff; a run may roll back only its own change`,
    );
    expect(await server.head()).toBe(head);
    expect((await imagesOf(server)).find((image) => image.name === 'itdo-erp/backend')?.newTag).toBe(
      'v2.1.7-bad',
    );
  });

  it("refuses a forged rollback of another run's entry, and commits nothing", async () => {
    const { server, repository } = await setUp();
    await commitBatch(
      repository,
      'main',
      [item('1', imageRequest('backend', 'v2.1.6', { hex: 'c' }))],
      noWait,
    );
    const head = await server.head();
    // v2.1.7-bad never reached staging; its run claims to roll back and would take v2.1.6 out.
    const forged = rollbackRequest(imageRequest('backend', 'v2.1.7-bad', { hex: 'b' }), { tag: 'v2.1.5' });

    const outcome = await commitBatch(repository, 'main', [item('2', forged)], noWait);

    expect(outcome.commit).toBeNull();
    expect(outcome.items[0]?.status === 'failed' && outcome.items[0].error).toBeInstanceOf(
      RollbackRefusedError,
    );
    expect(await server.head()).toBe(head);
  });
});
