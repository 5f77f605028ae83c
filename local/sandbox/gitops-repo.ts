/**
 * The sandbox's GitOps repository: a real git repository seeded with the ITDO ERP layout
 * (`base/` + `environments/{dev,staging,production}/kustomization.yaml` pinning the backend and
 * frontend images), and the read-only views the console shows (commit log, tag per environment).
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

export const ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export const REGISTRY = '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com';

/** Image tags the repository starts with, per environment. */
export const SEED_TAGS: Record<(typeof ENVIRONMENTS)[number], { backend: string; frontend: string }> = {
  dev: { backend: 'v2.1.6', frontend: 'v1.8.1' },
  staging: { backend: 'v2.1.5', frontend: 'v1.8.1' },
  production: { backend: 'v2.1.5', frontend: 'v1.8.0' },
};

const AUTHOR = { name: 'ITDO ERP Platform', email: 'platform@itdo-erp.com' };

/** Runs git in a repository with a fixed identity and no user config, so a seed is the same everywhere. */
export async function git(dir: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(
    'git',
    ['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', ...args],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: AUTHOR.name,
        GIT_AUTHOR_EMAIL: AUTHOR.email,
        GIT_COMMITTER_NAME: AUTHOR.name,
        GIT_COMMITTER_EMAIL: AUTHOR.email,
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout;
}

const deployment = (app: 'backend' | 'frontend', port: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${app}
  labels:
    app.kubernetes.io/name: ${app}
    app.kubernetes.io/part-of: itdo-erp
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: ${app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${app}
        app.kubernetes.io/part-of: itdo-erp
    spec:
      containers:
        - name: ${app}
          image: itdo-erp/${app}
          ports:
            - containerPort: ${port}
          readinessProbe:
            httpGet:
              path: ${app === 'backend' ? '/api/health' : '/'}
              port: ${port}
---
apiVersion: v1
kind: Service
metadata:
  name: ${app}
spec:
  selector:
    app.kubernetes.io/name: ${app}
  ports:
    - port: 80
      targetPort: ${port}
`;

const overlay = (environment: (typeof ENVIRONMENTS)[number]) => {
  const tags = SEED_TAGS[environment];
  return `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: itdo-erp-${environment}
resources:
  - ../../base
# Image tags are promoted by Shiplane; edit by hand only to roll back.
images:
  - name: itdo-erp/backend
    newName: ${REGISTRY}/itdo-erp/backend
    newTag: ${tags.backend}
  - name: itdo-erp/frontend
    newName: ${REGISTRY}/itdo-erp/frontend
    newTag: "${tags.frontend}"
replicas:
  - name: backend
    count: ${environment === 'production' ? 3 : 1}
`;
};

const SEED_FILES: Record<string, string> = {
  'README.md': `# itdo-erp-infrastructure

GitOps repository of ITDO ERP. Argo CD deploys \`environments/<env>\` (ApplicationSet
\`itdo-erp\`, one Application per environment). Image tags in the overlays are written by
Shiplane; External Secrets manifests (\`external-secrets.yaml\`) are generated from AWS Secrets
Manager — do not edit them by hand.
`,
  'base/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - backend.yaml
  - frontend.yaml
`,
  'base/backend.yaml': deployment('backend', 8000),
  'base/frontend.yaml': deployment('frontend', 3000),
  ...Object.fromEntries(ENVIRONMENTS.map((env) => [`environments/${env}/kustomization.yaml`, overlay(env)])),
};

export interface SeededRepository {
  readonly dir: string;
  readonly branch: string;
  readonly head: string;
}

/**
 * Creates (or re-creates: a sandbox starts from a known state) the GitOps repository in `dir`,
 * with the ITDO ERP layout committed on `branch`.
 */
export async function seedGitopsRepository(dir: string, branch = 'main'): Promise<SeededRepository> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await git(dir, ['init', '--quiet', `--initial-branch=${branch}`]);
  // Stand-ins update the branch directly; let them do so while it is checked out.
  await git(dir, ['config', 'receive.denyCurrentBranch', 'updateInstead']);
  for (const [path, content] of Object.entries(SEED_FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await git(dir, ['add', '--all']);
  await git(dir, ['commit', '--quiet', '-m', 'Initial ITDO ERP environments (dev, staging, production)']);
  const head = (await git(dir, ['rev-parse', branch])).trim();
  return { dir, branch, head };
}

export interface CommitLogEntry {
  readonly sha: string;
  readonly subject: string;
  readonly body: string;
  readonly author: string;
  readonly date: string;
  readonly files: readonly string[];
}

const FIELD = '\x1f';
const RECORD = '\x1e';

/** The branch's latest commits, newest first, with the files each one touched. */
export async function commitLog(dir: string, branch = 'main', limit = 30): Promise<CommitLogEntry[]> {
  const out = await git(dir, [
    'log',
    `--max-count=${limit}`,
    `--format=${RECORD}%H${FIELD}%s${FIELD}%b${FIELD}%an${FIELD}%aI${FIELD}`,
    '--name-only',
    branch,
    '--',
  ]);
  return out
    .split(RECORD)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const [sha = '', subject = '', body = '', author = '', date = '', files = ''] = chunk.split(FIELD);
      return {
        sha,
        subject,
        body: body.trim(),
        author,
        date,
        files: files.split('\n').filter((line) => line.trim() !== ''),
      };
    });
}

/** The tag each environment's overlay pins for each image, read from the branch head. */
export async function currentTags(
  dir: string,
  branch = 'main',
  images: Record<string, string> = { backend: 'itdo-erp/backend', frontend: 'itdo-erp/frontend' },
  /** An environment whose overlay lives in another repository (the sandbox's --production-repository). */
  dirOf: (environment: string) => string = () => dir,
): Promise<Record<string, Record<string, string | null>>> {
  const result: Record<string, Record<string, string | null>> = {};
  for (const environment of ENVIRONMENTS) {
    let entries: Array<{ name?: unknown; newTag?: unknown }> = [];
    try {
      const text = await git(dirOf(environment), [
        'show',
        `${branch}:environments/${environment}/kustomization.yaml`,
      ]);
      const doc = parse(text) as { images?: typeof entries } | null;
      entries = doc?.images ?? [];
    } catch {
      entries = [];
    }
    result[environment] = Object.fromEntries(
      Object.entries(images).map(([app, image]) => {
        const entry = entries.find((e) => e.name === image);
        return [app, entry?.newTag === undefined ? null : String(entry.newTag)];
      }),
    );
  }
  return result;
}

/** The seed's files under one environment, for a repository that holds only that environment. */
export function environmentSeed(environment: (typeof ENVIRONMENTS)[number]): Record<string, string> {
  const prefix = `environments/${environment}/`;
  return Object.fromEntries(Object.entries(SEED_FILES).filter(([path]) => path.startsWith(prefix)));
}

/** The branch head's commit SHA. */
export async function headOf(dir: string, branch = 'main'): Promise<string> {
  return (await git(dir, ['rev-parse', branch])).trim();
}
