/**
 * The console in a real browser (Debian's Chromium through playwright-core): the sandbox runs the
 * scenario, the test clicks Approve in the Slack panel — which the sandbox server signs and posts to
 * the interaction endpoint like Slack — and sees the run reach Deployed and production's tag change.
 * A commit hash opens the sandbox's commit view with the diff; the push form's tag pattern works in
 * Chromium; a -bad push shows its rollback, what to do next and the alert; and once the sandbox
 * stops, the page says so and its buttons are disabled.
 * The metrics panel shows that run and the -bad one per stage beside the targets, with its daily chart.
 * `UPDATE_SCREENSHOT=1` also writes docs/console.png and docs/metrics-panel.png for the README.
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
    // The metrics panel before: staging's one change (v2.1.6) did not fail.
    const stagingFailureRate = page
      .getByTestId('metrics-backend-staging')
      .locator('[data-figure="changeFailureRate"]');
    await expect.poll(() => stagingFailureRate.getAttribute('data-status'), { timeout: 30_000 }).toBe('met');

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
    // The open page's metrics panel caught up when the run ended, without a reload.
    await expect
      .poll(() => stagingFailureRate.getAttribute('data-status'), { timeout: 30_000 })
      .toBe('missed');
    await page.close();
  }, 400_000);

  it('shows the delivery metrics per stage beside their targets, with a bar a day and no data where nothing ran', async () => {
    // Prepare: the sandbox has deployed backend v2.1.6 to production (approved above) and rolled
    // back v2.1.7-bad in staging; frontend has run nothing.
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    await page.goto(sandbox.url);
    const card = (app: string, stage: string) => page.getByTestId(`metrics-${app}-${stage}`);
    const row = (app: string, stage: string, figure: string) =>
      card(app, stage).locator(`[data-figure="${figure}"]`);
    await card('backend', 'production').waitFor({ timeout: 30_000 });

    // Act: a one-day window.
    await page.getByTestId('metrics-window').selectOption('1d');

    // Assess: production counts its one deployment, staging's failure stays in staging.
    const deployments = row('backend', 'production', 'deploymentFrequency');
    await expect
      .poll(() => deployments.textContent(), { timeout: 30_000 })
      .toContain('1 deployment in 1 day');
    expect(await deployments.locator('td.value').textContent()).toBe('1 a day');
    expect(await row('backend', 'production', 'changeFailureRate').getAttribute('data-status')).toBe('met');
    expect(await row('backend', 'production', 'changeFailureRate').locator('td.value').textContent()).toBe(
      '0%',
    );
    const failureRate = row('backend', 'staging', 'changeFailureRate');
    expect(await failureRate.locator('td.value').textContent()).toBe('50%');
    expect(await failureRate.locator('td.target').textContent()).toBe('< 5%');
    expect(await failureRate.locator('.badge').textContent()).toBe('MISSED');
    expect(await failureRate.textContent()).toContain('1 of 2 changes failed');
    expect(await row('backend', 'staging', 'timeToRestore').getAttribute('data-status')).toBe('met');
    expect(await row('backend', 'staging', 'rollbackSuccessRate').locator('td.value').textContent()).toBe(
      '100%',
    );
    // The chart: one day, its bars counting staging's 2 changes — 1 deployed, 1 failed.
    const stagingChart = card('backend', 'staging').getByTestId('metrics-chart');
    expect(await stagingChart.locator('g.day').count()).toBe(1);
    expect(await stagingChart.locator('rect.deployments').getAttribute('data-count')).toBe('1');
    expect(await stagingChart.locator('rect.failures').getAttribute('data-count')).toBe('1');
    expect(await stagingChart.getAttribute('role')).toBe('img');
    const [titleId, descId] = ((await stagingChart.getAttribute('aria-labelledby')) ?? '').split(' ');
    expect(await stagingChart.locator(`title#${titleId}`).textContent()).toBe(
      'backend · staging: deployments and failures a day, 1 day',
    );
    expect(await stagingChart.locator(`desc#${descId}`).textContent()).toMatch(
      /^1 deployment, 1 of 2 changes failed, from /,
    );

    // Act: the whole week.
    await page.getByTestId('metrics-window').selectOption('7d');

    // Assess: a bar pair a day, the runs on the last; the text fallback has the same seven days.
    await expect.poll(() => stagingChart.locator('g.day').count(), { timeout: 30_000 }).toBe(7);
    expect(await stagingChart.locator('rect.deployments').count()).toBe(7);
    expect(await stagingChart.locator('rect.failures').count()).toBe(7);
    expect(
      await stagingChart
        .locator('rect.failures')
        .evaluateAll((bars) => bars.map((b) => b.getAttribute('data-count'))),
    ).toEqual(['0', '0', '0', '0', '0', '0', '1']);
    expect(await card('backend', 'staging').getByTestId('metrics-days').locator('tbody tr').count()).toBe(7);
    expect(await row('backend', 'production', 'deploymentFrequency').textContent()).toContain(
      '1 deployment in 7 days',
    );
    // Frontend ran nothing: an empty window, no data beside each target, the chart flat.
    for (const figure of ['leadTime', 'changeFailureRate', 'timeToRestore', 'syncSuccessRate']) {
      const empty = row('frontend', 'production', figure);
      expect(await empty.getAttribute('data-status'), figure).toBe('no-data');
      expect(await empty.locator('.badge').textContent(), figure).toBe('no data');
      expect(await empty.locator('td.value').textContent(), figure).toBe('—');
    }
    const flat = card('frontend', 'production').getByTestId('metrics-chart');
    expect(await flat.locator('desc').textContent()).toBe('No deployments or changes in 7 days.');
    expect(
      await flat
        .locator('rect')
        .evaluateAll((bars) => bars.every((b) => Number(b.getAttribute('height')) === 0)),
    ).toBe(true);

    // The longest window the panel offers: thirty days, the runs still on the last.
    await page.getByTestId('metrics-window').selectOption('30d');
    await expect.poll(() => stagingChart.locator('g.day').count(), { timeout: 30_000 }).toBe(30);
    expect(
      await stagingChart.locator('g.day').last().locator('rect.failures').getAttribute('data-count'),
    ).toBe('1');
    await page.getByTestId('metrics-window').selectOption('7d');
    await expect.poll(() => stagingChart.locator('g.day').count(), { timeout: 30_000 }).toBe(7);

    const shot = process.env.UPDATE_SCREENSHOT ? 'docs/metrics-panel.png' : 'test-results/metrics-panel.png';
    await mkdir(shot.split('/')[0] ?? '.', { recursive: true });
    await page.getByTestId('metrics').screenshot({ path: shot });
    await page.close();
  }, 120_000);

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
