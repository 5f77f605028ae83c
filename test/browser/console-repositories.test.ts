/**
 * The console in Chromium with production in its own GitOps repository (issue 13): the sandbox runs
 * with `productionRepository`, so the production commit really lands in a second GitHub stand-in
 * (behind the same API address), production's Argo CD app follows that repository, and the config's
 * production stage names it. The run's production commit must link to that repository's commit URL,
 * while staging's commit still opens the sandbox's commit view of the GitOps repository.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietHandlers } from '../../local/quiet-handlers.js';
import { git } from '../../local/sandbox/gitops-repo.js';
import type { Sandbox } from '../../local/sandbox/sandbox.js';
import { gitopsCommitUrl } from '../../shared/domain/repo-url.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PRODUCTION_REPOSITORY = 'itdo-erp/itdo-erp-production';

let sandbox: Sandbox;
let browser: Browser;
let workdir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  }
  quietHandlers();
  const { startSandbox } = await import('../../local/sandbox/sandbox.js');
  workdir = await mkdtemp(join(tmpdir(), 'shiplane-console-repos-'));
  sandbox = await startSandbox({
    workdir,
    port: 0,
    pollSeconds: 0.2,
    argoTickMs: 200,
    approve: 'auto',
    productionRepository: PRODUCTION_REPOSITORY,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

describe('the sandbox console with production in another repository', () => {
  it('links the production commit to that repository and staging’s to the commit view', async () => {
    // Prepare: the scenario's release of backend, approved, deployed to both stages.
    const execution = sandbox.scenarioExecution ?? '';
    const description = await sandbox.waitForRun(execution);
    expect(JSON.parse(description.output ?? '{}')).toMatchObject({ outcome: 'deployed' });
    const production = sandbox.productionGitHub;
    if (!production) throw new Error('the sandbox started without the production repository');
    const productionCommit = await production.head();
    expect(await production.readFile('environments/production/kustomization.yaml')).toContain(
      'newTag: v2.1.6',
    );

    // Act
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(`${sandbox.url}/#${encodeURIComponent(execution)}`);

    // Assess: production's commit is the second repository's, at its commit URL, in a new tab.
    const productionLink = page.locator('[data-stage="production"] a.sha').first();
    await productionLink.waitFor({ timeout: 60_000 });
    const expected = gitopsCommitUrl(
      sandbox.config.gitops.github.apiUrl,
      PRODUCTION_REPOSITORY,
      productionCommit,
    );
    expect(expected).toMatch(new RegExp(`/${PRODUCTION_REPOSITORY}/commit/${productionCommit}$`));
    expect(await productionLink.getAttribute('href')).toBe(expected);
    expect(await productionLink.getAttribute('target')).toBe('_blank');
    expect(await productionLink.getAttribute('data-commit')).toBeNull();
    expect(await productionLink.textContent()).toBe(productionCommit.slice(0, 7));
    // That commit is not in the GitOps repository the commit view shows.
    await expect(git(sandbox.repoDir, ['cat-file', '-e', `${productionCommit}^{commit}`])).rejects.toThrow();

    // Staging's commit is the GitOps repository's: the sandbox's commit view.
    const stagingLink = page.locator('[data-stage="staging"] a[data-commit]').first();
    const stagingCommit = (await stagingLink.getAttribute('data-commit')) ?? '';
    expect(await stagingLink.getAttribute('href')).toBe(`/commits/${stagingCommit}`);
    expect((await git(sandbox.repoDir, ['cat-file', '-t', stagingCommit])).trim()).toBe('commit');

    // The repository panel reads production's tag from production's repository.
    await expect
      .poll(() => page.getByTestId('tag-production-backend').textContent(), { timeout: 30_000 })
      .toBe('v2.1.6');
    await page.close();
  }, 300_000);
});
