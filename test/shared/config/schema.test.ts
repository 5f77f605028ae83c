import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../../shared/config/load.js';
import { toConfigInput } from '../../../shared/config/runtime.js';
import { HISTORY_EVENT_BUDGET } from '../../../shared/config/schema.js';
import { problemsOf, type RawConfig, shippedConfig } from './helpers.js';

describe('the shipped shiplane.config.yaml', () => {
  it('is valid, with durations in seconds and secret references parsed', () => {
    const config = parseConfigText(readFileSync('shiplane.config.yaml', 'utf8'));

    expect(config.gitops).toEqual({
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
      github: {
        apiUrl: 'https://api.github.com',
        token: { source: 'secret', name: 'shiplane/github-token' },
      },
    });
    expect(Object.keys(config.apps)).toEqual(['backend', 'frontend']);
    expect(config.stages.map((stage) => [stage.name, stage.healthTimeout, stage.pollInterval])).toEqual([
      ['staging', 900, 10],
      ['production', 900, 10],
    ]);
    expect(config.stages[1]?.approval).toEqual({
      approvers: ['U0PLATFORM1', 'S0PLATFORMGRP'],
      timeout: 86_400,
    });
    expect(config.slack.botToken).toEqual({ source: 'secret', name: 'shiplane/slack-bot-token' });
  });
});

describe('config defaults', () => {
  it('fills in the optional settings DESIGN.md lists', () => {
    const raw = shippedConfig();
    delete raw.gitops.branch;
    delete raw.gitops.github.apiUrl;
    delete raw.slack.apiUrl;
    delete raw.alerts;
    delete raw.secrets;
    delete raw.stages[0].healthTimeout;
    delete raw.stages[1].approval.timeout;

    const config = parseConfig(raw);

    expect(config.gitops.branch).toBe('main');
    expect(config.gitops.github.apiUrl).toBe('https://api.github.com');
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
    expect(config.alerts.email).toEqual([]);
    expect(config.secrets).toEqual([]);
    expect(config.stages[0]).toMatchObject({ healthTimeout: 900, pollInterval: 10, sync: false });
    expect(config.stages[0]?.approval).toBeUndefined();
    expect(config.stages[1]?.approval?.timeout).toBe(86_400);
    expect(config.apps.backend?.newName).toBeUndefined();
  });

  it('pins digests by default on Kustomize stages', () => {
    const raw = shippedConfig();

    const config = parseConfig(raw);

    expect(config.stages.map((stage) => stage.pinDigest)).toEqual([true, true]);
  });

  it('pins digests by default on a Helm stage with a digestPath, not on one without', () => {
    const raw = shippedConfig();
    raw.stages[0].valuesPath = '{app}.image.tag';
    raw.stages[0].digestPath = '{app}.image.digest';
    raw.stages[1].valuesPath = '{app}.image.tag';

    const config = parseConfig(raw);

    expect(config.stages.map((stage) => stage.pinDigest)).toEqual([true, false]);
  });

  it('keeps an explicit pinDigest: false (tag-only edits)', () => {
    const raw = shippedConfig();
    raw.stages[0].pinDigest = false;

    expect(parseConfig(raw).stages[0]?.pinDigest).toBe(false);
  });

  it('accepts a GitHub App instead of a token', () => {
    const raw = shippedConfig();
    delete raw.gitops.github.token;
    raw.gitops.github.app = {
      appId: 123456,
      installationId: '7890123',
      privateKey: 'secret:shiplane/github-app',
    };

    expect(parseConfig(raw).gitops.github.app).toEqual({
      appId: '123456',
      installationId: '7890123',
      privateKey: { source: 'secret', name: 'shiplane/github-app' },
    });
  });

  it('accepts a GitHub App without an installation id (looked up per owner)', () => {
    const raw = shippedConfig();
    delete raw.gitops.github.token;
    raw.gitops.github.app = { appId: 123456, privateKey: 'secret:shiplane/github-app' };

    expect(parseConfig(raw).gitops.github.app).toEqual({
      appId: '123456',
      privateKey: { source: 'secret', name: 'shiplane/github-app' },
    });
  });

  it('accepts env: references for local runs and combined durations', () => {
    const raw = shippedConfig();
    raw.argocd.token = 'env:ARGOCD_TOKEN';
    raw.stages[1].approval.timeout = '1h30m';

    const config = parseConfig(raw);

    expect(config.argocd.token).toEqual({ source: 'env', name: 'ARGOCD_TOKEN' });
    expect(config.stages[1]?.approval?.timeout).toBe(5_400);
  });
});

/** Each bad config: what is changed, and the problem `shiplane validate` must report. */
const badConfigs: Array<[string, (raw: RawConfig) => void, { path: string; message: RegExp }]> = [
  ['an unknown top-level key', (raw) => (raw.notify = {}), { path: 'notify', message: /^unknown key$/ }],
  [
    'an unknown nested key (a typo)',
    (raw) => (raw.stages[1].approval.approver = ['U0PLATFORM1']),
    { path: 'stages[1].approval.approver', message: /^unknown key$/ },
  ],
  [
    'a duration that is not one',
    (raw) => (raw.stages[1].approval.timeout = '1 day'),
    { path: 'stages[1].approval.timeout', message: /expected a duration like 90s, 15m or 24h, got "1 day"/ },
  ],
  [
    'a zero duration',
    (raw) => (raw.stages[0].healthTimeout = '0m'),
    { path: 'stages[0].healthTimeout', message: /expected a duration/ },
  ],
  [
    'a duration written as a bare number',
    (raw) => (raw.stages[0].pollInterval = 10),
    { path: 'stages[0].pollInterval', message: /expected a duration/ },
  ],
  [
    'a duplicate stage name',
    (raw) => (raw.stages[1].name = 'staging'),
    { path: 'stages[1].name', message: /duplicate stage name staging/ },
  ],
  [
    'two apps on one ECR repository',
    (raw) => (raw.apps.frontend.ecrRepository = 'itdo-erp/backend'),
    { path: 'apps.frontend.ecrRepository', message: /already the repository of app backend/ },
  ],
  [
    'a secret reference without a name',
    (raw) => (raw.argocd.token = 'secret:'),
    { path: 'argocd.token', message: /expected secret:NAME/ },
  ],
  [
    'an env reference that is not a variable name',
    (raw) => (raw.argocd.token = 'env:ARGOCD TOKEN'),
    { path: 'argocd.token', message: /expected env:VAR/ },
  ],
  [
    'a plain secret where a reference belongs',
    (raw) => (raw.slack.botToken = 'xoxb-1111-2222-abcdefabcdef'),
    { path: 'slack.botToken', message: /never the secret itself/ },
  ],
  [
    'a missing required key',
    (raw) => delete raw.gitops.repository,
    { path: 'gitops.repository', message: /^required$/ },
  ],
  [
    'a missing secret reference',
    (raw) => delete raw.slack.signingSecret,
    { path: 'slack.signingSecret', message: /^required$/ },
  ],
  ['a missing section', (raw) => delete raw.argocd, { path: 'argocd', message: /^required$/ }],
  ['no apps', (raw) => (raw.apps = {}), { path: 'apps', message: /at least one app/ }],
  ['no stages', (raw) => (raw.stages = []), { path: 'stages', message: /at least one stage/ }],
  [
    'a tag pattern that is not a regular expression',
    (raw) => (raw.apps.backend.tags = '^v(\\d+$'),
    { path: 'apps.backend.tags', message: /^not a pattern .*: error parsing regexp: missing closing \)/ },
  ],
  [
    'a tag pattern that is not a string',
    (raw) => (raw.apps.backend.tags = ['v1']),
    { path: 'apps.backend.tags', message: /expected a tag pattern \(RE2 regular expression\) as a string/ },
  ],
  [
    'a tag pattern with a backreference (RE2 has none)',
    (raw) => (raw.apps.backend.tags = '^(v\\d+)-\\1$'),
    {
      path: 'apps.backend.tags',
      message: /linear time \(RE2 syntax: no backreferences or lookarounds\).*`\\1`/,
    },
  ],
  [
    'a tag pattern with a lookahead (RE2 has none)',
    (raw) => (raw.apps.frontend.tags = '^v(?!0)\\d+$'),
    { path: 'apps.frontend.tags', message: /RE2 syntax.*unsupported Perl syntax: `\(\?!`/ },
  ],
  [
    'a rollback setting that is neither auto nor off',
    (raw) => (raw.stages[0].rollback = 'manual'),
    { path: 'stages[0].rollback', message: /expected auto or off/ },
  ],
  [
    'health waits whose rollback wait would exhaust the execution history',
    (raw) => {
      // 2 × 750 polls fit; the rollback's own wait of up to 750 more does not.
      for (const stage of raw.stages) {
        stage.healthTimeout = '125m';
        stage.pollInterval = '10s';
      }
    },
    { path: 'stages', message: new RegExp(`about ${3 * 750 * 12} history events`) },
  ],
  [
    'health waits that would exhaust the execution history',
    (raw) => {
      raw.stages[0].healthTimeout = '7d';
      raw.stages[0].pollInterval = '10s';
    },
    { path: 'stages', message: new RegExp(`under ${HISTORY_EVENT_BUDGET}.*raise pollInterval`) },
  ],
  [
    'both a GitHub token and a GitHub App',
    (raw) =>
      (raw.gitops.github.app = { appId: 1, installationId: 2, privateKey: 'secret:shiplane/github-app' }),
    { path: 'gitops.github', message: /set exactly one of token or app/ },
  ],
  [
    'neither a GitHub token nor a GitHub App',
    (raw) => delete raw.gitops.github.token,
    { path: 'gitops.github', message: /set exactly one of token or app/ },
  ],
  [
    'a GitHub App id that is not numeric',
    (raw) => {
      delete raw.gitops.github.token;
      raw.gitops.github.app = { appId: 'shiplane', installationId: 2, privateKey: 'secret:k' };
    },
    { path: 'gitops.github.app.appId', message: /expected the numeric GitHub App id/ },
  ],
  [
    'a poll interval longer than the health timeout',
    (raw) => (raw.stages[0].pollInterval = '20m'),
    { path: 'stages[0].pollInterval', message: /must not be longer than healthTimeout/ },
  ],
  [
    'an app name that is not lower-case',
    (raw) => (raw.apps.Backend = raw.apps.backend),
    { path: 'apps.Backend', message: /expected a lower-case app name/ },
  ],
  [
    'a Slack channel name instead of its id',
    (raw) => (raw.slack.channel = '#deploys'),
    { path: 'slack.channel', message: /expected a Slack channel id/ },
  ],
  [
    'an approver that is not a Slack id',
    (raw) => (raw.stages[1].approval.approvers = ['@alice']),
    { path: 'stages[1].approval.approvers[0]', message: /expected a Slack user id/ },
  ],
  [
    'an alert address that is not an email',
    (raw) => (raw.alerts.email = ['oncall']),
    { path: 'alerts.email[0]', message: /expected an email address/ },
  ],
  [
    'an Argo CD URL that is not http(s)',
    (raw) => (raw.argocd.url = 'ftp://argocd.itdo-erp.com'),
    { path: 'argocd.url', message: /expected an http\(s\) URL/ },
  ],
  [
    'a repository that is not owner/name',
    (raw) => (raw.gitops.repository = 'itdo-erp-infrastructure'),
    { path: 'gitops.repository', message: /expected owner\/name/ },
  ],
  [
    'a secret selection with neither match nor tags',
    (raw) => delete raw.secrets[0].match,
    { path: 'secrets[0]', message: /set match, tags, or both/ },
  ],
  [
    'a digestPath without valuesPath',
    (raw) => (raw.stages[0].digestPath = 'image.digest'),
    { path: 'stages[0].digestPath', message: /needs valuesPath/ },
  ],
  [
    'pinDigest on a Helm stage without digestPath',
    (raw) => {
      raw.stages[0].valuesPath = '{app}.image.tag';
      raw.stages[0].pinDigest = true;
    },
    {
      path: 'stages[0].pinDigest',
      message: /pins the digest at its digestPath; set digestPath .* or pinDigest: false/,
    },
  ],
];

describe('an invalid config', () => {
  it.each(badConfigs)('reports %s with its key path', (_, change, expected) => {
    const raw = shippedConfig();
    change(raw);

    const problems = problemsOf(raw);

    expect(problems).toEqual([{ path: expected.path, message: expect.stringMatching(expected.message) }]);
  });

  it('reports every problem at once, the cross-checks included', () => {
    const raw = shippedConfig();
    raw.slack.channel = '#deploys';
    raw.stages[0].healthTimeout = 'soon';
    raw.stages[1].name = 'staging';
    raw.apps.frontend.ecrRepository = 'itdo-erp/backend';
    raw.argocd.tokn = 'secret:typo';

    expect(problemsOf(raw).map((problem) => problem.path)).toEqual([
      'argocd.tokn',
      'slack.channel',
      'stages[0].healthTimeout',
      'apps.frontend.ecrRepository',
      'stages[1].name',
    ]);
  });

  it('never repeats a plain secret in its message', () => {
    const raw = shippedConfig();
    raw.slack.signingSecret = '8f742231b10e8888abcd99yyyzzz85a5';

    const problems = problemsOf(raw);

    expect(JSON.stringify(problems)).not.toContain('8f742231b10e8888abcd99yyyzzz85a5');
  });

  it('refuses credentials in a URL, without repeating them', () => {
    const raw = shippedConfig();
    raw.argocd.url = 'https://admin:hunter2-argocd@argocd.itdo-erp.com';
    raw.slack.apiUrl = 'https://xoxb-123@slack.example.com/api/';

    const problems = problemsOf(raw);

    expect(problems.map((problem) => problem.path)).toEqual(['argocd.url', 'slack.apiUrl']);
    expect(problems[0]?.message).toMatch(/without credentials/);
    expect(JSON.stringify(problems)).not.toMatch(/hunter2|xoxb/);
  });

  it.each(['not a url', 'https://', ''])('reports the malformed URL %j as one problem', (url) => {
    const raw = shippedConfig();
    raw.argocd.url = url;

    expect(problemsOf(raw)).toEqual([{ path: 'argocd.url', message: 'expected an http(s) URL' }]);
  });

  it('says the config is empty when there is nothing', () => {
    expect(problemsOf(null)).toEqual([{ path: '(root)', message: 'the config is empty' }]);
  });
});

describe('service URLs', () => {
  const HTTPS_ONLY = /expected an https:\/\/ URL: .*only for loopback hosts/;

  it('refuses plain http:// to any other host, naming each key and why', () => {
    const raw = shippedConfig();
    raw.gitops.github.apiUrl = 'http://github.itdo-erp.com/api/v3';
    raw.argocd.url = 'http://argocd.itdo-erp.com';
    raw.slack.apiUrl = 'http://10.0.0.5/api/';

    const problems = problemsOf(raw);

    expect(problems.map((problem) => problem.path)).toEqual([
      'gitops.github.apiUrl',
      'argocd.url',
      'slack.apiUrl',
    ]);
    for (const problem of problems) expect(problem.message).toMatch(HTTPS_ONLY);
  });

  it.each([
    'http://127.0.0.1.nip.io',
    'http://localhost.itdo-erp.com',
    'http://[::ffff:127.0.0.1]',
    'http://0.0.0.0',
  ])('does not take %s for a loopback host', (url) => {
    const raw = shippedConfig();
    raw.argocd.url = url;

    expect(problemsOf(raw)).toEqual([{ path: 'argocd.url', message: expect.stringMatching(HTTPS_ONLY) }]);
  });

  it.each(['http://127.0.0.1:8080', 'http://127.1.2.3', 'http://localhost:9000/api/', 'http://[::1]:4000'])(
    'allows plain http:// to the loopback host in %s (the sandbox and tests)',
    (url) => {
      const raw = shippedConfig();
      raw.argocd.url = url;
      raw.slack.apiUrl = url;
      raw.gitops.github.apiUrl = url;

      expect(parseConfig(raw).argocd.url).toBe(url);
    },
  );
});

describe('stages[].rollback', () => {
  it('is auto by default and may be turned off per stage', () => {
    const raw = shippedConfig();
    raw.stages[1].rollback = 'off';

    const config = parseConfig(raw);

    expect(config.stages.map((stage) => stage.rollback)).toEqual(['auto', 'off']);
  });

  it('leaves room for no rollback wait when every stage turns rollback off', () => {
    const raw = shippedConfig();
    for (const stage of raw.stages) {
      stage.healthTimeout = '125m';
      stage.pollInterval = '10s';
      stage.rollback = 'off';
    }

    expect(parseConfig(raw).stages).toHaveLength(2);
  });
});

describe('intake.sweep', () => {
  it('is 15m by default, and takes a duration or off', () => {
    expect(parseConfig(shippedConfig()).intake).toEqual({ sweep: 900 });
    const raw = shippedConfig();
    raw.intake = { sweep: '1h' };
    expect(parseConfig(raw).intake.sweep).toBe(3600);
    raw.intake = { sweep: 'off' };
    expect(parseConfig(raw).intake.sweep).toBe('off');
  });

  it('survives the round trip through SHIPLANE_CONFIG', () => {
    const raw = shippedConfig();
    raw.intake = { sweep: 'off' };
    const config = parseConfig(raw);
    expect(parseConfig(toConfigInput(config))).toEqual(config);
    expect(parseConfig(toConfigInput(parseConfig(shippedConfig()))).intake).toEqual({ sweep: 900 });
  });

  it.each([
    ['soon', /expected a duration like 15m, or off, got "soon"/],
    ['0m', /expected a duration like 15m, or off, got "0m"/],
    [false, /expected a duration like 15m, or off/],
  ])('refuses %s, naming the key', (value, message) => {
    const raw = shippedConfig();
    raw.intake = { sweep: value };
    expect(problemsOf(raw)).toEqual([{ path: 'intake.sweep', message: expect.stringMatching(message) }]);
  });

  it('refuses an unknown key under intake', () => {
    const raw = shippedConfig();
    raw.intake = { sweeps: '15m' };
    expect(problemsOf(raw)).toEqual([{ path: 'intake.sweeps', message: 'unknown key' }]);
  });
});

describe('apps.<name>.scan', () => {
  it('is absent by default: no gate', () => {
    expect(parseConfig(shippedConfig()).apps.backend?.scan).toBeUndefined();
  });

  it('takes a severity, a timeout (30m by default) and CVE ids to ignore', () => {
    const raw = shippedConfig();
    raw.apps.backend.scan = { maxSeverity: 'HIGH' };
    raw.apps.frontend.scan = {
      maxSeverity: 'CRITICAL',
      timeout: '1h',
      ignore: ['CVE-2024-3094', 'CVE-2023-44487'],
    };

    const config = parseConfig(raw);

    expect(config.apps.backend?.scan).toEqual({ maxSeverity: 'HIGH', timeout: 1800, ignore: [] });
    expect(config.apps.frontend?.scan).toEqual({
      maxSeverity: 'CRITICAL',
      timeout: 3600,
      ignore: ['CVE-2024-3094', 'CVE-2023-44487'],
    });
    expect(parseConfig(toConfigInput(config))).toEqual(config);
  });

  it.each([
    [{ maxSeverity: 'SEVERE' }, 'apps.backend.scan.maxSeverity', /expected CRITICAL, HIGH, MEDIUM or LOW/],
    [{ maxSeverity: 'high' }, 'apps.backend.scan.maxSeverity', /expected CRITICAL, HIGH, MEDIUM or LOW/],
    [{}, 'apps.backend.scan.maxSeverity', /expected CRITICAL, HIGH, MEDIUM or LOW/],
    [{ maxSeverity: 'HIGH', timeout: 'soon' }, 'apps.backend.scan.timeout', /got "soon"/],
    [
      { maxSeverity: 'HIGH', ignore: ['CVE-2024-3094', 'cve-2024-1'] },
      'apps.backend.scan.ignore[1]',
      /expected a CVE id like CVE-2024-3094, got "cve-2024-1"/,
    ],
    [{ maxSeverity: 'HIGH', ignore: ['GHSA-xxxx'] }, 'apps.backend.scan.ignore[0]', /got "GHSA-xxxx"/],
    [{ maxSeverity: 'HIGH', ignore: [2024] }, 'apps.backend.scan.ignore[0]', /expected a CVE id/],
    [{ maxSeverity: 'HIGH', ignores: [] }, 'apps.backend.scan.ignores', /unknown key/],
  ])('refuses %j, naming the key', (scan, path, message) => {
    const raw = shippedConfig();
    raw.apps.backend.scan = scan;
    expect(problemsOf(raw)).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('counts the longest scan wait in the history budget', () => {
    const raw = shippedConfig();
    raw.apps.backend.scan = { maxSeverity: 'HIGH', timeout: '7d' };
    expect(problemsOf(raw)).toEqual([{ path: 'stages', message: expect.stringMatching(/scan\.timeout/) }]);
  });

  it('counts each scan poll at 16 history events: the wait is a task on a token, not a Wait state', () => {
    const reported = (timeout: string) => {
      const raw = shippedConfig();
      raw.apps.backend.scan = { maxSeverity: 'HIGH', timeout };
      const message = problemsOf(raw)[0]?.message ?? '';
      return Number(/about (\d+) history events/.exec(message)?.[1]);
    };
    // 10 hours more of scan timeout: 1200 more polls of 30 s.
    expect(reported('20h') - reported('10h')).toBe(1200 * 16);
  });
});

describe('metrics', () => {
  it('has the change failure alarm off by default, judged over at least 20 changes', () => {
    expect(parseConfig(shippedConfig()).metrics).toEqual({
      changeFailureAlarm: 'off',
      changeFailureAlarmMinChanges: 20,
    });
  });

  it('takes on, a minimum, and survives the round trip through SHIPLANE_CONFIG', () => {
    const raw = shippedConfig();
    raw.metrics = { changeFailureAlarm: 'on', changeFailureAlarmMinChanges: 8 };
    const config = parseConfig(raw);
    expect(config.metrics).toEqual({ changeFailureAlarm: 'on', changeFailureAlarmMinChanges: 8 });
    expect(parseConfig(toConfigInput(config))).toEqual(config);
  });

  it.each([
    [{ changeFailureAlarm: true }, 'metrics.changeFailureAlarm', /expected on or off/],
    [{ changeFailureAlarm: 'yes' }, 'metrics.changeFailureAlarm', /expected on or off/],
    [{ changeFailureAlarmMinChanges: 0 }, 'metrics.changeFailureAlarmMinChanges', /at least 1/],
    [{ changeFailureAlarmMinChanges: 2.5 }, 'metrics.changeFailureAlarmMinChanges', /whole number/],
    [{ changeFailureAlarms: 'on' }, 'metrics.changeFailureAlarms', /unknown key/],
  ])('refuses %j, naming the key', (metrics, path, message) => {
    const raw = shippedConfig();
    raw.metrics = metrics;
    expect(problemsOf(raw)).toEqual([{ path, message: expect.stringMatching(message) }]);
  });
});
