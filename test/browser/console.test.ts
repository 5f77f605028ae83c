/**
 * The console in a real browser (Debian's Chromium through playwright-core): the sandbox runs the
 * scenario, the test clicks Approve in the Slack panel — which the sandbox server signs and posts to
 * the interaction endpoint like Slack — and sees the run reach Deployed and production's tag change.
 * A commit hash opens the sandbox's commit view with the diff; the push form's tag pattern works in
 * Chromium; a -bad push shows its rollback, what to do next and the alert; and once the sandbox
 * stops, the page says so and its buttons are disabled.
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
    // Every open page polls the sandbox each second; the next tests open their own.
    await page.close();
  }, 120_000);

  it('opens a commit hash as the commit with its diff, served by the sandbox, in one time format', async () => {
    // Prepare: the deployed run of the test before, seen from Tokyo.
    const context = await browser.newContext({
      timezoneId: 'Asia/Tokyo',
      viewport: { width: 1440, height: 1100 },
    });
    const page = await context.newPage();
    await page.goto(sandbox.url);
    const link = page.locator('[data-stage="production"] a[data-commit]');
    await link.waitFor({ timeout: 30_000 });
    const sha = await link.getAttribute('data-commit');
    // No link anywhere leads to the GitHub stand-in, which answers a browser 401.
    await page
      .getByTestId('slack-messages')
      .locator(`a[href^="/commits/"]`)
      .first()
      .waitFor({ timeout: 30_000 });
    expect(await page.locator(`a[href^="${sandbox.github.url}"]`).count()).toBe(0);
    expect(await page.locator('#executions tbody td time').first().textContent()).toMatch(
      /^\d\d:\d\d:\d\d GMT\+9$/,
    );

    // Act
    await link.click();

    // Assess
    await page.waitForURL(`**/commits/${sha}`, { timeout: 30_000 });
    expect(await page.getByTestId('commit-sha').textContent()).toBe(sha);
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toMatch(
      /backend v2\.1\.6 to production/,
    );
    const diff = page.getByTestId('diff');
    expect(await diff.locator('.line.del').allTextContents()).toContain('-    newTag: v2.1.5');
    expect(await diff.locator('.line.add').allTextContents()).toContain('+    newTag: v2.1.6');
    expect(await page.locator('time').first().textContent()).toMatch(/^\d\d:\d\d:\d\d GMT\+9$/);
    await context.close();
  }, 120_000);

  it('checks the tag in the push form with a pattern Chromium compiles: ECR’s rule, "-" included', async () => {
    const page = await browser.newPage();
    await page.goto(sandbox.url);
    const tag = page.getByTestId('push-form').locator('input[name="tag"]');
    const validity = () =>
      // Runs in the page: the DOM input element's own verdict.
      tag.evaluate((input) => {
        const element = input as unknown as {
          checkValidity(): boolean;
          validity: { patternMismatch: boolean };
        };
        return { valid: element.checkValidity(), patternMismatch: element.validity.patternMismatch };
      });

    await tag.fill('v2.1.7:bad');
    expect(await validity()).toEqual({ valid: false, patternMismatch: true });
    await tag.fill('-v2.1.7');
    expect(await validity()).toEqual({ valid: false, patternMismatch: true });
    await tag.fill('v2.1.8-rc_1.bad');
    expect(await validity()).toEqual({ valid: true, patternMismatch: false });
    await page.close();
  }, 60_000);

  it('pushes a -bad image from the form and shows the degraded rollout rolled back in staging', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(sandbox.url);
    await page.getByTestId('push-form').locator('select[name="app"]').selectOption('backend');

    // Act
    await page.getByTestId('push-form').locator('input[name="tag"]').fill('v2.1.7-bad');
    await page.getByTestId('push-form').getByRole('button', { name: 'Push' }).click();

    // Assess
    // A loaded machine makes each commit take seconds: be generous.
    await page.getByTestId('run-status').getByText('FAILED').waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('execution').textContent()).toMatch(
      /Shiplane\.RolledBack: staging was rolled back from v2\.1\.7-bad to v2\.1\.6/,
    );
    expect(await page.getByTestId('run-outcome').textContent()).toBe('rolled-back');
    expect(await page.getByTestId('execution').textContent()).toMatch(/rollbackto v2\.1\.6/);
    // What to do next, as `shiplane show` and the thread say it.
    expect(await page.getByTestId('next-step').textContent()).toMatch(/^Next: .*shiplane (rollback|retry) /);
    // What the SNS topic got is in the console too.
    await expect
      .poll(() => page.getByTestId('alerts').textContent(), { timeout: 30_000 })
      .toMatch(/Shiplane: backend v2\.1\.7-bad (degraded|rolled back) in staging/);
    await expect
      .poll(() => page.getByTestId('tag-staging-backend').textContent(), { timeout: 10_000 })
      .toBe('v2.1.6');
    expect(await page.getByTestId('tag-production-backend').textContent()).toBe('v2.1.6');
    await page.close();
  }, 400_000);

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
    await page.close();
  }, 300_000);

  it('says the sandbox has stopped and disables every button once it is gone', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.goto(sandbox.url);
    await page.getByTestId('connection').getByText('live').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('stopped').isHidden()).toBe(true);

    // Act
    await sandbox.stop();

    // Assess
    await page.getByTestId('stopped').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.getByTestId('stopped').textContent()).toMatch(/The sandbox has stopped\./);
    expect(await page.getByTestId('connection').textContent()).toBe('stopped');
    expect(await page.locator('main button').count()).toBeGreaterThan(0);
    expect(await page.locator('main button:enabled, main input:enabled, main select:enabled').count()).toBe(
      0,
    );
    expect(await page.getByTestId('push-form').getByRole('button', { name: 'Push' }).isDisabled()).toBe(true);
  }, 60_000);
});
