/**
 * argocd-health when a stage's tags live in several repositories (issue 13): the check asks the
 * config where the run's app's tag lives (deps.locate), judges the Argo CD source in that repository
 * and reads the file there, through that repository's reader; a state machine naming another file
 * than the config is a clear terminal error, as is a repository it has no reader for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createArgoCdClient } from '../../../../shared/adapters/argocd/client.js';
import { createSecretResolver } from '../../../../shared/adapters/aws/secrets.js';
import type { TagLocation } from '../../../../shared/config/tag-location.js';
import type { HealthCheckInput } from '../../../../shared/contracts/tasks.js';
import { TerminalError } from '../../../../shared/errors.js';
import type { ArgoCdClient } from '../../../../shared/ports/argocd.js';
import type { Ancestry } from '../../../../shared/ports/gitops-repository.js';
import {
  type ArgoCdHealthDeps,
  type CheckedRepository,
  checkArgoCdHealth,
} from '../../../../shared/steps/argocd-health/check-health.js';
import type { RevisionFiles } from '../../../../shared/steps/argocd-health/revision-files.js';
import {
  type ApplicationFixture,
  fixtureText,
  GITOPS_REPOSITORY,
  OURS,
} from '../../../fixtures/argocd/load.js';

const TOKEN = 'argocd-test-token';
/** The revision Argo CD reports for the fixture's third source (itdo-erp/platform-addons). */
const ADDONS_REVISION = '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d';
const ADDONS = 'itdo-erp/platform-addons';
const VALUES = 'monitoring/staging/values.yaml';

let raw: Server | undefined;
afterEach(async () => {
  if (!raw) return;
  raw.closeAllConnections();
  await new Promise((resolve) => raw!.close(resolve));
  raw = undefined;
});

/** Serves one Application fixture for every request, as a fixed Argo CD would. */
async function serveFixture(name: ApplicationFixture): Promise<ArgoCdClient> {
  raw = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(fixtureText(name));
  });
  await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', resolve));
  return createArgoCdClient({
    url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}`,
    token: { source: 'env', name: 'ARGOCD_TOKEN' },
    resolveSecret: createSecretResolver({ env: { ARGOCD_TOKEN: TOKEN } }),
    backoffMs: 0,
    attempts: 2,
  });
}

/** A several-place stage's check: the state machine names no file (the config decides). */
function input(commit: string, file?: string): HealthCheckInput {
  return {
    execution: 'backend-v1-1-0-0123456789ab',
    stage: 'staging',
    argocdApp: 'itdo-erp-staging',
    sync: false,
    commit,
    release: {
      app: 'backend',
      ecrRepository: 'itdo-erp/backend',
      image: 'itdo-erp/backend',
      tag: 'v1.1.0',
      digest: `sha256:${'ab'.repeat(32)}`,
      registryId: '123456789012',
      region: 'eu-west-1',
      pushedAt: '2025-06-03T10:00:00Z',
    },
    ...(file !== undefined ? { file } : {}),
    pinDigest: false,
    attempt: 1,
    maxAttempts: 90,
  };
}

const addonsLocation: TagLocation = {
  repository: ADDONS,
  branch: 'main',
  file: VALUES,
  valuesPath: 'image.tag',
  pinDigest: false,
  createIfMissing: false,
};

/** A repository reader whose file pins backend at `tag` (Helm values), remembering what was read. */
function helmRepository(tag: string): CheckedRepository & { reads: string[] } {
  const reads: string[] = [];
  const files: RevisionFiles = {
    read: async (path, revision) => {
      reads.push(`${path}@${revision}`);
      return `replicaCount: 2\nimage:\n  repository: itdo-erp/backend\n  tag: ${tag}\n`;
    },
    lastChange: async (_path, revision) => revision,
  };
  const ancestry: Ancestry = { contains: async (revision, commit) => revision === commit };
  return { reads, files, ancestry };
}

/** The GitOps repository's reader: the check must not touch it for an app whose tag lives elsewhere. */
const untouchable: CheckedRepository = {
  files: {
    read: async (path) => {
      throw new Error(`read ${path} in the GitOps repository`);
    },
    lastChange: async (path) => {
      throw new Error(`asked about ${path} in the GitOps repository`);
    },
  },
  ancestry: {
    contains: async () => {
      throw new Error('asked the GitOps repository about ancestry');
    },
  },
};

describe('checkArgoCdHealth with the app’s tag in another repository', () => {
  it('judges the source in the resolved repository and reads its file there', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    const addons = helmRepository('v1.1.0');
    const asked: string[] = [];
    const deps: ArgoCdHealthDeps = {
      argocd,
      ...untouchable,
      repository: GITOPS_REPOSITORY,
      locate: (app, stage) => {
        asked.push(`${app}@${stage}`);
        return addonsLocation;
      },
      sources: (repository) => {
        if (repository !== ADDONS) throw new Error(`no reader for ${repository}`);
        return addons;
      },
    };

    const result = await checkArgoCdHealth(input(ADDONS_REVISION), deps);

    expect(result).toMatchObject({
      status: 'healthy',
      revision: ADDONS_REVISION,
      message: 'Synced and Healthy at 0c1d2e3',
    });
    expect(asked).toEqual(['backend@staging']);
    expect(addons.reads).toEqual([`${VALUES}@${ADDONS_REVISION}`]);
  });

  it('ends the run as replaced when the resolved file pins another tag there', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    const addons = helmRepository('v1.0.0');
    const result = await checkArgoCdHealth(input(ADDONS_REVISION), {
      argocd,
      ...untouchable,
      repository: GITOPS_REPOSITORY,
      locate: () => addonsLocation,
      sources: () => addons,
    });

    expect(result.status).not.toBe('healthy');
    expect(result.message).toContain('v1.0.0');
  });

  it('reads the GitOps repository itself when the config puts the tag there', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    const gitops = helmRepository('v1.1.0');
    const result = await checkArgoCdHealth(input(OURS), {
      argocd,
      ...gitops,
      repository: GITOPS_REPOSITORY,
      locate: () => ({
        ...addonsLocation,
        repository: GITOPS_REPOSITORY,
        file: 'environments/staging/values.yaml',
      }),
      sources: () => {
        throw new Error('the GitOps repository has its own reader');
      },
    });

    expect(result).toMatchObject({ status: 'healthy', revision: OURS });
    expect(gitops.reads).toEqual([`environments/staging/values.yaml@${OURS}`]);
  });

  it('fails the run, naming both files, when the state machine and the config disagree about the file', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    const addons = helmRepository('v1.1.0');
    const check = checkArgoCdHealth(input(ADDONS_REVISION, 'environments/staging/kustomization.yaml'), {
      argocd,
      ...untouchable,
      repository: GITOPS_REPOSITORY,
      locate: () => addonsLocation,
      sources: () => addons,
    });

    await expect(check).rejects.toThrow(TerminalError);
    await expect(check).rejects.toThrow(
      `the run checks environments/staging/kustomization.yaml for stage staging, but the config puts backend's tag in ${VALUES} (${ADDONS}); the state machine and the config differ`,
    );
    expect(addons.reads).toEqual([]);
  });

  it('accepts the state machine’s file spelled differently (./a is a)', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    const addons = helmRepository('v1.1.0');
    const result = await checkArgoCdHealth(input(ADDONS_REVISION, `./${VALUES}`), {
      argocd,
      ...untouchable,
      repository: GITOPS_REPOSITORY,
      locate: () => addonsLocation,
      sources: () => addons,
    });
    expect(result.status).toBe('healthy');
  });

  it('fails the run clearly when it has no reader for the resolved repository', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    await expect(
      checkArgoCdHealth(input(ADDONS_REVISION), {
        argocd,
        ...untouchable,
        repository: GITOPS_REPOSITORY,
        locate: () => addonsLocation,
      }),
    ).rejects.toThrow(`argocd-health cannot read ${ADDONS}: no GitHub client for it`);
  });

  it('fails the run when neither the state machine nor a config says which file to check', async () => {
    const argocd = await serveFixture('multi-source-ours-second');
    await expect(
      checkArgoCdHealth(input(OURS), { argocd, ...untouchable, repository: GITOPS_REPOSITORY }),
    ).rejects.toThrow(
      "the check of stage staging names no file and no config says where backend's tag lives",
    );
  });
});
