/**
 * The sandbox end to end: real handlers, real git, the stand-ins, clicks through the signed Slack
 * path. One sandbox serves the scenario and the pushes after it; a second start in the same folder
 * runs the unattended `--approve auto --exit --json` mode.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRuns } from '../../../cli/commands/runs.js';
import { runSandbox } from '../../../cli/commands/sandbox.js';
import { showRun } from '../../../cli/commands/show.js';
import type { Io } from '../../../cli/io.js';
import { quietHandlers } from '../../../local/quiet-handlers.js';
import { commitLog, currentTags } from '../../../local/sandbox/gitops-repo.js';
import type { Sandbox } from '../../../local/sandbox/sandbox.js';
import { SANDBOX_USERS } from '../../../local/sandbox/sandbox-config.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../../../shared/adapters/slack/approval-message.js';

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

let workdir: string;
let sandbox: Sandbox;
const terminal: string[] = [];

beforeAll(async () => {
  quietHandlers();
  const { startSandbox } = await import('../../../local/sandbox/sandbox.js');
  workdir = await mkdtemp(join(tmpdir(), 'shiplane-sandbox-'));
  // No controller clock: Argo CD moves on only when the health check reads it, so runs are quick.
  sandbox = await startSandbox({
    workdir,
    port: 0,
    pollSeconds: 0,
    argoTickMs: 60_000,
    write: (line) => terminal.push(line),
  });
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  await rm(workdir, { recursive: true, force: true });
});

async function api<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    ...(body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Waits until the run's approval message is in the channel; returns its ts and approval id. */
async function approvalMessage(execution: string, stage = 'production') {
  for (let i = 0; i < 300; i++) {
    const approvalId = await sandbox.runtime.store.approvalIdFor(execution, stage);
    const message = sandbox.slack
      .messages()
      .find((m) => approvalId && JSON.stringify(m.blocks ?? []).includes(`"value":"${approvalId}"`));
    if (message && approvalId) return { ts: message.ts, approvalId };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no approval message for ${execution}`);
}

const click = (ts: string, actionId: string, value: string, user: string) =>
  api<{ status: number }>('/api/slack/click', { ts, actionId, value, user });

describe('the sandbox scenario', () => {
  it('writes and validates its config, and says where everything is', async () => {
    expect(await readFile(sandbox.configFile, 'utf8')).toContain(`apiUrl: ${sandbox.github.url}`);
    expect(terminal.join('\n')).toContain(`Console  →  ${sandbox.url}/`);
    expect(JSON.parse(await readFile(join(workdir, 'sandbox.json'), 'utf8'))).toMatchObject({
      url: sandbox.url,
    });
  });

  it('runs the real secret sync at start: Shiplane commits the ExternalSecrets, never a value', async () => {
    const log = await commitLog(sandbox.repoDir);
    const sync = log.find((commit) => commit.subject.startsWith('Sync external secrets for production'));
    expect(sync?.files).toEqual(['environments/production/external-secrets.yaml']);
    const manifest = await readFile(
      join(sandbox.repoDir, 'environments/production/external-secrets.yaml'),
      'utf8',
    );
    expect(manifest).toContain('kind: ExternalSecret');
    expect(manifest).toContain('namespace: itdo-erp');
    // JSON secrets are extracted whole: neither values nor their key names reach git.
    expect(manifest).toContain('dataFrom:\n    - extract:\n        key: itdo-erp/production/database\n');
    expect(manifest).not.toMatch(/sandbox-only-|sk_test_|password|username|dbname/);
  });

  it('promotes backend v2.1.6 to staging, waits for approval, and a signed click by an approver deploys it', async () => {
    // Prepare
    const execution = sandbox.scenarioExecution ?? '';
    expect(execution).toMatch(/^backend-v2\.1\.6-[0-9a-f]{12}$/);
    const { ts, approvalId } = await approvalMessage(execution);
    expect((await currentTags(sandbox.repoDir)).staging?.backend).toBe('v2.1.6');
    expect((await currentTags(sandbox.repoDir)).production?.backend).toBe('v2.1.5');
    // Digests are pinned by default: staging runs exactly the image that will be approved.
    const staging = execFileSync('git', ['show', 'main:environments/staging/kustomization.yaml'], {
      cwd: sandbox.repoDir,
      encoding: 'utf8',
    });
    expect(staging).toContain(
      `digest: ${sandbox.ecr.registry.image('itdo-erp/backend', 'v2.1.6')?.digest}\n`,
    );

    // Act: someone who may not approve clicks first, then an approver
    const outsider = await click(ts, APPROVE_ACTION, approvalId, SANDBOX_USERS.outsider.id);
    expect(outsider.body.status).toBe(200);
    expect(sandbox.runtime.engine.describeExecution(execution).status).toBe('RUNNING');
    expect(sandbox.slack.ephemerals().at(-1)).toMatchObject({ user: SANDBOX_USERS.outsider.id });
    const approver = await click(ts, APPROVE_ACTION, approvalId, SANDBOX_USERS.approver.id);
    const description = await sandbox.waitForRun(execution);

    // Assess
    expect(approver.body.status).toBe(200);
    expect(description.status).toBe('SUCCEEDED');
    const summary = await sandbox.summary(execution);
    expect(summary).toMatchObject({
      outcome: 'deployed',
      approval: { decision: 'approved', by: SANDBOX_USERS.approver.name },
      tags: { staging: { backend: 'v2.1.6' }, production: { backend: 'v2.1.6', frontend: 'v1.8.0' } },
    });
    const log = await commitLog(sandbox.repoDir);
    for (const [index, stage] of ['staging', 'production'].entries()) {
      const commit = summary.stages[index]?.commit;
      expect(log.find((entry) => entry.sha === commit)?.subject).toBe(`Promote backend v2.1.6 to ${stage}`);
    }
    const timeline = terminal.join('\n');
    expect(timeline).toMatch(/✓ Staging · Commit new tag +commit [0-9a-f]{7} \(committed, was v2\.1\.5\)/);
    expect(timeline).toMatch(/✓ Production · Await approval +approved by aiko\.tanaka via slack/);
    expect(timeline).toMatch(/✓ Deployed/);
  });

  it('rejects a frontend release with the Reject button: the run ends Rejected, production unchanged', async () => {
    const pushed = await api<{ execution: string }>('/api/push', { app: 'frontend', tag: 'v1.9.0' });
    const { ts, approvalId } = await approvalMessage(pushed.body.execution);

    const clicked = await api<{ status: number; view?: { id: string; inputs: Array<{ actionId: string }> } }>(
      '/api/slack/click',
      { ts, actionId: REJECT_ACTION, value: approvalId, user: SANDBOX_USERS.approver.id },
    );
    // Reject opened the reason modal (views.open on the Slack stand-in); an empty reason is refused.
    const view = clicked.body.view;
    expect(view?.inputs).toEqual([
      expect.objectContaining({ actionId: 'shiplane_reason_input', maxLength: 500 }),
    ]);
    const submit = (reason: string) =>
      api<{ status: number; errors?: Record<string, string>; closed: boolean }>('/api/slack/view', {
        viewId: view?.id,
        user: SANDBOX_USERS.approver.id,
        inputs: { shiplane_reason_input: reason },
      });
    expect((await submit('   ')).body).toMatchObject({
      closed: false,
      errors: { shiplane_reason: expect.any(String) },
    });
    expect((await submit('frontend v1.9.0 breaks the login page')).body).toMatchObject({
      status: 200,
      closed: true,
    });
    const description = await sandbox.waitForRun(pushed.body.execution);

    expect(description.status).toBe('SUCCEEDED');
    expect(JSON.parse(description.output ?? '{}')).toMatchObject({ outcome: 'rejected' });
    const thread = JSON.stringify(sandbox.slack.messages());
    expect(thread).toContain('frontend v1.9.0 breaks the login page');
    const tags = await currentTags(sandbox.repoDir);
    expect(tags.staging?.frontend).toBe('v1.9.0');
    expect(tags.production?.frontend).toBe('v1.8.0');
  });

  it('rolls a -bad tag degraded in staging back to the release before it; production is never touched', async () => {
    // (After the frontend run, so staging pins backend v2.1.6 from the scenario.)
    const before = await commitLog(sandbox.repoDir);
    const pushed = await api<{ result: string; execution: string }>('/api/push', {
      app: 'backend',
      tag: 'v2.1.7-bad',
    });
    expect(pushed.body.result).toBe('started');

    const description = await sandbox.waitForRun(pushed.body.execution);

    expect(description).toMatchObject({ status: 'FAILED', error: 'Shiplane.RolledBack' });
    expect(description.cause).toMatch(
      /^staging was rolled back from v2\.1\.7-bad to v2\.1\.6 at [0-9a-f]{40}: staging is Degraded at [0-9a-f]{40}/,
    );
    const tags = await currentTags(sandbox.repoDir);
    expect(tags.staging?.backend).toBe('v2.1.6');
    expect(tags.production?.backend).toBe('v2.1.6');
    const summary = await sandbox.summary(pushed.body.execution);
    const log = await commitLog(sandbox.repoDir);
    expect(log.slice(0, log.length - before.length).map((entry) => entry.subject)).toEqual([
      'Roll back backend v2.1.7-bad → v2.1.6 in staging',
      'Promote backend v2.1.7-bad to staging',
    ]);
    expect(summary).toMatchObject({ outcome: 'rolled-back', recovery: { commit: log[0]?.sha } });
    expect(summary.recovery?.seconds).toBe(
      Math.round(
        (Date.parse(summary.recovery?.restoredAt ?? '') - Date.parse(summary.recovery?.degradedAt ?? '')) /
          1000,
      ),
    );
    expect(Date.parse(summary.recovery?.restoredAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(summary.recovery?.degradedAt ?? ''),
    );
    const thread = sandbox.slack
      .messages()
      .filter((message) => message.thread_ts !== undefined)
      .map((message) => message.text ?? '');
    expect(thread.join('\n')).toMatch(/rolled back to `v2\.1\.6`/);
    expect(terminal.join('\n')).toMatch(/alert \(SNS\)/);
    expect(terminal.join('\n')).toMatch(/Rolled back/);
  });

  it('starts nothing for the same image twice, or for a tag that is not a release', async () => {
    expect(
      (await api<{ result: string }>('/api/push', { app: 'backend', tag: 'v2.1.6' })).body,
    ).toMatchObject({
      result: 'duplicate',
      execution: sandbox.scenarioExecution,
    });
    expect((await api<{ result: string }>('/api/push', { app: 'backend', tag: 'latest' })).body.result).toBe(
      'ignored',
    );
    expect(sandbox.runtime.engine.listExecutions()).toHaveLength(3);
  });

  it('is what `shiplane runs` and `shiplane show` read with --sandbox', async () => {
    const runs = capture();
    expect(await listRuns({ sandbox: sandbox.url, json: true }, runs)).toBe(0);
    const listed = (JSON.parse(runs.lines[0] ?? '{}') as { runs: Array<{ app: string; outcome: string }> })
      .runs;
    expect(listed.map((run) => `${run.app}:${run.outcome}`).sort()).toEqual([
      'backend:deployed',
      'backend:rolled-back',
      'frontend:rejected',
    ]);

    const show = capture();
    expect(await showRun(sandbox.scenarioExecution ?? '', { sandbox: sandbox.url }, show)).toBe(0);
    expect(show.lines.join('\n')).toMatch(/production +approved by aiko\.tanaka \(U0PLATFORM1\) via slack/);
  });

  it('shows the console state: runs, the Slack thread, the repository and Argo CD', async () => {
    const { body } = await api<{
      runs: unknown[];
      slack: { messages: Array<{ replies: unknown[] }> };
      repo: { tags: Record<string, Record<string, string>> };
      argocd: { apps: Array<{ name: string }> };
    }>('/api/state');
    expect(body.runs).toHaveLength(3);
    expect(body.slack.messages.length).toBeGreaterThanOrEqual(3);
    expect(body.slack.messages[0]?.replies.length).toBeGreaterThan(0);
    expect(body.repo.tags.production?.backend).toBe('v2.1.6');
    expect(body.argocd.apps.map((app) => app.name)).toEqual([
      'itdo-erp-dev',
      'itdo-erp-staging',
      'itdo-erp-production',
    ]);
  });
});

describe('stopping and starting again', () => {
  it('stops cleanly, and a second start in the same folder runs the unattended scenario', async () => {
    // Prepare
    const url = sandbox.url;
    await sandbox.stop();
    await expect(fetch(`${url}/api/state`)).rejects.toThrow();
    expect(existsSync(join(workdir, 'sandbox.json'))).toBe(false);
    const io = capture();

    // Act
    const code = await runSandbox(
      { workdir, port: 0, approve: 'auto', exit: true, json: true, scenario: true, poll: 0 },
      io,
    );

    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(io.lines.at(-1) ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({
      status: 'SUCCEEDED',
      outcome: 'deployed',
      approval: { decision: 'approved', by: 'aiko.tanaka' },
      tags: { production: { backend: 'v2.1.6' } },
    });
    expect(summary.stages).toEqual([
      { name: 'staging', commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
      { name: 'production', commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
    ]);
    // Started over from the seed: no trace of the first session's -bad and frontend runs.
    const subjects = (summary.commits as Array<{ subject: string }>).map((commit) => commit.subject);
    expect(subjects).toEqual([
      'Promote backend v2.1.6 to production',
      'Promote backend v2.1.6 to staging',
      'Sync external secrets for production (3 changed)',
      'Initial ITDO ERP environments (dev, staging, production)',
    ]);
    expect(io.errors.join('\n')).toContain('✓ Deployed');
  }, 120_000);
});
