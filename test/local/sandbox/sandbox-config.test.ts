import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SANDBOX_SECRET_ENV,
  SANDBOX_USERS,
  sandboxConfigText,
  writeSandboxConfig,
} from '../../../local/sandbox/sandbox-config.js';
import { loadConfig, parseConfigText } from '../../../shared/config/load.js';
import { decideRelease } from '../../../shared/domain/release.js';

const endpoints = {
  githubApiUrl: 'http://127.0.0.1:40001',
  argocdUrl: 'http://127.0.0.1:40002',
  slackApiUrl: 'http://127.0.0.1:40003/api/',
};

describe('the sandbox config', () => {
  it('puts production in its own repository when asked, and only production', () => {
    const config = parseConfigText(
      sandboxConfigText(endpoints, { productionRepository: 'itdo-erp/itdo-erp-production' }),
    );

    expect(config.stages.map((stage) => [stage.name, stage.repository])).toEqual([
      ['staging', undefined],
      ['production', 'itdo-erp/itdo-erp-production'],
    ]);
    expect(config.gitops.repository).toBe('itdo-erp/itdo-erp-infrastructure');
  });

  it('is a valid shiplane.config.yaml pointing at the stand-ins, with env: secret references', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'shiplane-config-'));
    const file = join(dir, 'shiplane.config.yaml');

    // Act
    const config = await writeSandboxConfig(file, endpoints, { pollInterval: 1, healthTimeout: 30 });

    // Assess
    expect(await loadConfig(file)).toEqual(config);
    expect(config.gitops.github.apiUrl).toBe('http://127.0.0.1:40001');
    expect(config.argocd.url).toBe('http://127.0.0.1:40002');
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:40003/api/');
    expect(config.gitops.github.token).toEqual({ source: 'env', name: SANDBOX_SECRET_ENV.githubToken });
    expect(config.slack.signingSecret).toEqual({
      source: 'env',
      name: SANDBOX_SECRET_ENV.slackSigningSecret,
    });
    expect(config.stages.map((stage) => [stage.name, stage.pollInterval, stage.healthTimeout])).toEqual([
      ['staging', 1, 30],
      ['production', 1, 30],
    ]);
    expect(config.stages[1]?.approval?.approvers).toEqual([SANDBOX_USERS.approver.id]);
    expect(await readFile(file, 'utf8')).not.toMatch(/xox[bp]-|secret:/);
    await rm(dir, { recursive: true, force: true });
  });

  it('releases the scenario tag and -bad tags, and not a dev build', () => {
    const config = parseConfigText(sandboxConfigText(endpoints));
    const push = (tag: string) => ({
      account: '123456789012',
      region: 'ap-northeast-1',
      time: '2026-11-26T13:40:01Z',
      detail: {
        result: 'SUCCESS',
        'repository-name': 'itdo-erp/backend',
        'image-digest': `sha256:${'c'.repeat(64)}`,
        'action-type': 'PUSH',
        'image-tag': tag,
      },
    });

    expect(decideRelease(push('v2.1.6'), config).kind).toBe('start');
    expect(decideRelease(push('v2.1.7-bad'), config).kind).toBe('start');
    expect(decideRelease(push('main-3f9c2e1'), config).kind).toBe('ignored');
  });
});
