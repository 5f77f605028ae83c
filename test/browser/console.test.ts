/**
 * The console in a real browser (Debian's Chromium through playwright-core): the sandbox runs the
 * scenario, the test clicks Approve in the Slack panel — which the sandbox server signs and posts to
 * the interaction endpoint like Slack — and sees the run reach Deployed and production's tag change.
 * `UPDATE_SCREENSHOT=1` also writes docs/console.png for the README.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietHandlers } from '../../local/quiet-handlers.js';
import type { Sandbox } from '../../local/sandbox/sandbox.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let sandbox: Sandbox;
let browser: Browser;
let workdir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  }
  quietHandlers();
  const { startSandbox } = await import('../../local/sandbox/sandbox.js');
  workdir = await mkdtemp(join(tmpdir(), 'shiplane-console-'));
  sandbox = await startSandbox({ workdir, port: 0, pollSeconds: 0.2, argoTickMs: 200 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
  await rm(workdir, { recursive: true, force: true });
});

describe('the sandbox console', () => {
  it('approves the production promotion with the Slack button and shows it deployed', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(sandbox.url);
    await expect
      .poll(() => page.getByTestId('tag-production-backend').textContent(), { timeout: 30_000 })
      .toBe('v2.1.5');
    const approve = page.getByTestId('slack-messages').getByRole('button', { name: 'Approve' });
    await approve.waitFor({ timeout: 60_000 });
    await expect
      .poll(() => page.getByTestId('current-state').textContent())
      .toContain('Production · Await approval');

    // Act
    await approve.click();

    // Assess
    await page.getByTestId('run-outcome').getByText('deployed').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('run-status').textContent()).toBe('SUCCEEDED');
    await expect
      .poll(() => page.getByTestId('tag-production-backend').textContent(), { timeout: 10_000 })
      .toBe('v2.1.6');
    expect(await page.getByTestId('tag-staging-backend').textContent()).toBe('v2.1.6');
    const timeline = page.getByTestId('timeline');
    expect(await timeline.locator('[data-state="Deployed"]').getAttribute('data-status')).toBe('succeeded');
    expect(
      await timeline.locator('[data-state="Production · Await approval"]').getAttribute('data-status'),
    ).toBe('succeeded');
    await expect
      .poll(() => page.getByTestId('repo-log').textContent(), { timeout: 10_000 })
      .toMatch(/backend v2\.1\.6 to production/);
    await page.locator('[data-state="Production · Commit new tag"] summary').click();
    // The channel scrolls to the newest message; show the release thread from its start.
    await page.getByTestId('slack-messages').evaluate((element) => element.scrollTo(0, 0));
    const shot = process.env.UPDATE_SCREENSHOT ? 'docs/console.png' : 'test-results/console.png';
    await mkdir(shot.split('/')[0] ?? '.', { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
  }, 120_000);

  it('pushes a -bad image from the form and shows the degraded rollout rolled back in staging', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(sandbox.url);
    await page.getByTestId('push-form').locator('select[name="app"]').selectOption('backend');

    // Act
    await page.getByTestId('push-form').locator('input[name="tag"]').fill('v2.1.7-bad');
    await page.getByTestId('push-form').getByRole('button', { name: 'Push' }).click();

    // Assess
    await page.getByTestId('run-status').getByText('FAILED').waitFor({ timeout: 150_000 });
    expect(await page.getByTestId('execution').textContent()).toMatch(
      /Shiplane\.RolledBack: staging was rolled back from v2\.1\.7-bad to v2\.1\.6/,
    );
    expect(await page.getByTestId('run-outcome').textContent()).toBe('rolled-back');
    expect(await page.getByTestId('execution').textContent()).toMatch(/rollbackto v2\.1\.6/);
    // What to do next, as `shiplane show` and the thread say it.
    expect(await page.getByTestId('next-step').textContent()).toMatch(/^Next: .*`shiplane (rollback|retry) /);
    await expect
      .poll(() => page.getByTestId('tag-staging-backend').textContent(), { timeout: 10_000 })
      .toBe('v2.1.6');
    expect(await page.getByTestId('tag-production-backend').textContent()).toBe('v2.1.6');
  }, 240_000);

  it('rejects with a reason through the Slack modal and shows the reason', async () => {
    // Prepare: a frontend release waits for production's approval.
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(sandbox.url);
    const pushed = await fetch(`${sandbox.url}/api/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'frontend', tag: 'v1.9.1' }),
    });
    const { execution } = (await pushed.json()) as { execution: string };
    const reject = page.getByTestId('slack-messages').getByRole('button', { name: 'Reject' });
    await reject.last().waitFor({ timeout: 120_000 });

    // Act: Reject opens the modal; an empty reason is refused, then a reason is given.
    await reject.last().click();
    const modal = page.getByTestId('slack-modal');
    await modal.waitFor({ timeout: 30_000 });
    await modal.getByTestId('slack-modal-submit').click();
    await expect
      .poll(() => modal.getByTestId('slack-modal-error').textContent(), { timeout: 30_000 })
      .toMatch(/reason is required/);
    await modal.getByTestId('slack-modal-input').fill('frontend v1.9.1 breaks the checkout');
    await modal.getByTestId('slack-modal-submit').click();

    // Assess: the modal closes, the run ends rejected, the reason is in the Slack thread and the run.
    await modal.waitFor({ state: 'detached', timeout: 30_000 });
    await expect
      .poll(() => page.getByTestId('slack-messages').textContent(), { timeout: 60_000 })
      .toContain('frontend v1.9.1 breaks the checkout');
    const description = await sandbox.waitForRun(execution);
    expect(JSON.parse(description.output ?? '{}')).toMatchObject({ outcome: 'rejected' });
    const run = (await (await fetch(`${sandbox.url}/api/executions/${execution}`)).json()) as {
      summary: { stages: Array<{ name: string; approval?: { decision: string; reason?: string } }> };
    };
    expect(run.summary.stages.find((s) => s.name === 'production')?.approval).toMatchObject({
      decision: 'rejected',
      reason: 'frontend v1.9.1 breaks the checkout',
    });
  }, 300_000);
});
