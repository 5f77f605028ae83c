/**
 * The commit view every commit hash in the console opens: served by the sandbox from the GitHub
 * stand-in's git store (real git), as JSON and as a page with each file's diff.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitView } from '../../../local/sandbox/commit-page.js';
import {
  type ConsoleBackend,
  type SandboxServer,
  startSandboxServer,
} from '../../../local/sandbox/server.js';
import { type GitHubServer, startGitHubServer } from '../../../local/stand-ins/github/server.js';

const OVERLAY = (tag: string) => `images:\n  - name: itdo-erp/backend\n    newTag: ${tag}\n`;

let github: GitHubServer;
let server: SandboxServer;
let seed: string;
let promoted: string;

beforeAll(async () => {
  github = await startGitHubServer({
    owner: 'itdo-erp',
    repo: 'itdo-erp-infrastructure',
    token: 'ghs_test',
    seed: { 'environments/staging/kustomization.yaml': OVERLAY('v2.1.5'), 'README.md': '# infra <&>\n' },
  });
  seed = await github.head();
  promoted = await github.commitAs(
    { 'environments/staging/kustomization.yaml': OVERLAY('v2.1.6') },
    { message: 'Promote backend v2.1.6 to staging\n\nShiplane-Execution: backend-v2.1.6-1\n' },
  );
  const backend: ConsoleBackend = {
    info: () => ({
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
      channel: 'C0DEPLOYS1',
      channelName: 'deploys',
      configFile: '/tmp/shiplane.config.yaml',
      apps: ['backend'],
      stages: ['staging'],
      users: [],
      startedAt: '2026-12-02T13:00:00.000Z',
    }),
    listExecutions: async () => [],
    getExecution: async () => undefined,
    slackMessages: async () => [],
    repo: async () => ({ branch: 'main', head: promoted, tags: {}, log: [] }),
    argocd: async () => [],
    push: async () => ({ result: 'ignored', message: 'not in this test' }),
    commit: async (sha) => {
      const diff = await github.commit(sha);
      return diff ? commitView(diff) : undefined;
    },
  };
  server = await startSandboxServer({
    signingSecret: 'secret',
    backend,
    interaction: async () => ({ statusCode: 200, body: '' }),
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await github?.close();
});

describe('the commit view', () => {
  it('answers a commit by its short sha with its message and each file’s patch', async () => {
    const response = await fetch(`${server.url}/api/commits/${promoted.slice(0, 7)}`);

    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      sha: string;
      parents: string[];
      message: string;
      files: { filename: string; status: string; additions: number; deletions: number; patch: string }[];
    };
    expect(body.sha).toBe(promoted);
    expect(body.parents).toEqual([seed]);
    expect(body.message).toBe('Promote backend v2.1.6 to staging\n\nShiplane-Execution: backend-v2.1.6-1');
    expect(body.files).toEqual([
      {
        filename: 'environments/staging/kustomization.yaml',
        status: 'modified',
        additions: 1,
        deletions: 1,
        patch:
          '@@ -1,3 +1,3 @@\n images:\n   - name: itdo-erp/backend\n-    newTag: v2.1.5\n+    newTag: v2.1.6',
      },
    ]);
  });

  it('shows the commit as a page: subject, parent link, the diff lines marked and escaped', async () => {
    const response = await fetch(`${server.url}/commits/${promoted}`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<h2>Promote backend v2.1.6 to staging</h2>');
    expect(html).toContain(`href="/commits/${seed}"`);
    expect(html).toContain('<span class="line del">-    newTag: v2.1.5</span>');
    expect(html).toContain('<span class="line add">+    newTag: v2.1.6</span>');
    expect(html).toContain('<link rel="icon" href="/favicon.svg"');
  });

  it('shows the first commit against nothing, with its text escaped', async () => {
    const html = await (await fetch(`${server.url}/commits/${seed}`)).text();

    expect(html).toContain('none (the first commit)');
    expect(html).toContain('<span class="line add">+# infra &#60;&#38;&#62;</span>');
  });

  it('answers 404 for a sha the repository lacks and 400 for what is no sha (a ref name, an option)', async () => {
    const missing = await fetch(`${server.url}/commits/${'0'.repeat(40)}`);
    const ref = await fetch(`${server.url}/api/commits/main`);
    const option = await fetch(`${server.url}/commits/--all`);

    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain(`the GitOps repository has no commit ${'0'.repeat(40)}`);
    expect(ref.status).toBe(400);
    expect(await ref.json()).toEqual({ message: '"main" is not a commit sha' });
    expect(option.status).toBe(400);
  });
});
