import * as z from '../contracts/zod.js';
import { parseDuration } from './duration.js';
import { freezeWindowSchema } from './freeze.js';
import { HISTORY_EVENTS_PER_PULL_REQUEST_POLL, maxPullRequestPolls } from './pull-request-poll.js';
import { parseSecretRef, type SecretRef } from './secret-ref.js';
import { tagLocationProblems } from './tag-location.js';

/**
 * Step Functions keeps at most 25,000 events in an execution's history. One Argo CD poll
 * (check task, choice, wait, counter) writes about this many; the config is refused when the
 * longest allowed waits could exhaust the history.
 */
export const HISTORY_EVENTS_PER_POLL = 12;
export const HISTORY_EVENT_BUDGET = 20_000;
/** How often a run's scan gate asks for the findings while the scan is not finished. */
export const SCAN_POLL_SECONDS = 30;
/**
 * The history events one scan-gate poll writes: check task (5), choice (2), `Wait for the scan` on a
 * task token (entered, scheduled, started, submitted, timed out or succeeded, exited: 6), counter (2);
 * 15, with one to spare.
 */
export const HISTORY_EVENTS_PER_SCAN_POLL = 16;

const nonEmpty = z.string().check(z.minLength(1));

const durationSeconds = (text: string) => parseDuration(text) ?? 0;

/** A duration as written (`15m`), in seconds. */
const duration = (fallback: string) =>
  z.pipe(
    z._default(
      z.string({ error: 'expected a duration like 15m' }).check(
        z.refine((text) => durationSeconds(text) > 0, {
          error: (issue) => `expected a duration like 90s, 15m or 24h, got "${String(issue.input)}"`,
        }),
      ),
      fallback,
    ),
    z.transform(durationSeconds),
  );

/** `secret:NAME` or `env:VAR`, parsed. */
const secretRef = z.pipe(
  z.string({ error: 'expected a secret reference like secret:NAME' }).check(
    z.superRefine((text, ctx) => {
      const parsed = parseSecretRef(text);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed, input: text });
    }),
  ),
  z.transform((text) => parseSecretRef(text) as SecretRef),
);

/** No `user:password@`: the URL is written to SHIPLANE_CONFIG and error messages, credentials are not. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).check(
  z.refine((text) => {
    // Zod runs this even after the URL check failed; that check has already said what is wrong.
    const url = URL.canParse(text) ? new URL(text) : undefined;
    return !url || (url.username === '' && url.password === '');
  }, 'expected a URL without credentials (user:password@); give them as a secret: reference instead'),
  z.refine(
    (text) => !URL.canParse(text) || new URL(text).protocol !== 'http:' || isLoopbackHost(new URL(text)),
    'expected an https:// URL: Shiplane sends its token there, so plain http:// is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1)',
  ),
);

/** This machine (the sandbox and tests); the WHATWG parser has already normalised `127.1` and `[0:…:1]`. */
function isLoopbackHost(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const numericId = (what: string) =>
  z.pipe(
    z.union([
      z.int(`expected the numeric ${what}`).check(z.positive(`expected the numeric ${what}`)),
      z.string().check(z.regex(/^\d+$/, `expected the numeric ${what}`)),
    ]),
    z.transform(String),
  );

const githubApp = z.strictObject({
  appId: numericId('GitHub App id'),
  /** The installation on gitops.repository's owner; other owners' installations are looked up. */
  installationId: z.optional(numericId('installation id')),
  privateKey: secretRef,
});

const github = z
  .strictObject({
    apiUrl: z._default(httpUrl, 'https://api.github.com'),
    token: z.optional(secretRef),
    app: z.optional(githubApp),
  })
  .check(
    z.superRefine((value, ctx) => {
      if (!value.token === !value.app) {
        ctx.addIssue({ code: 'custom', message: 'set exactly one of token or app', input: value });
      }
    }),
  );

/** A GitHub repository as `owner/name`. */
const repositoryName = z
  .string({ error: 'expected a GitHub repository as owner/name' })
  .check(z.regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected owner/name'));

const gitops = z.strictObject({
  repository: repositoryName,
  branch: z._default(nonEmpty, 'main'),
  github,
});

const argocd = z.strictObject({
  url: httpUrl,
  token: secretRef,
});

const slack = z.strictObject({
  apiUrl: z._default(httpUrl, 'https://slack.com/api/'),
  channel: z.string().check(z.regex(/^[CGD][A-Z0-9]{2,}$/, 'expected a Slack channel id like C0DEPLOYS1')),
  botToken: secretRef,
  signingSecret: secretRef,
});

const alerts = z.strictObject({
  email: z._default(z.array(z.email({ error: 'expected an email address' })), []),
});

/** The severities a scan gate can stop at, most severe first (domain/scan-verdict ranks ECR's others). */
export const SCAN_GATE_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
/** A CVE id as MITRE assigns them: the year and a sequence number of four or more digits. */
export const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/**
 * `apps.<name>.scan`: the image's scan findings at or above `maxSeverity`, less the `ignore`d CVEs,
 * stop the run before anything is committed; no finished scan within `timeout` stops it too.
 */
const scan = z.strictObject({
  maxSeverity: z.enum(SCAN_GATE_SEVERITIES, { error: 'expected CRITICAL, HIGH, MEDIUM or LOW' }),
  timeout: duration('30m'),
  ignore: z._default(
    z.array(
      z.string({ error: 'expected a CVE id like CVE-2024-3094' }).check(
        z.refine((text) => CVE_ID.test(text), {
          error: (issue) => `expected a CVE id like CVE-2024-3094, got "${String(issue.input)}"`,
        }),
      ),
    ),
    [],
  ),
});

/** `apps.<name>.stages.<stage>`: each field replaces the stage's own (or the gitops default). */
const appStageOverride = z
  .strictObject({
    repository: z.optional(repositoryName),
    branch: z.optional(nonEmpty),
    file: z.optional(nonEmpty),
    valuesPath: z.optional(nonEmpty),
    digestPath: z.optional(nonEmpty),
  })
  .check(
    z.refine(
      (value) =>
        [value.repository, value.branch, value.file, value.valuesPath, value.digestPath].some(Boolean),
      'set at least one of repository, branch, file, valuesPath, digestPath (or leave the stage out)',
    ),
  );

const app = z.strictObject({
  ecrRepository: z
    .string()
    .check(z.regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, 'expected an ECR repository name')),
  /**
   * Which pushed tags are releases: a pattern in RE2 syntax (matched in linear time). RE2 checks it in
   * config/tag-patterns.ts, not here, so handlers that never read it carry no RE2. Absent: version
   * tags only (domain/default-tags.ts).
   */
  tags: z.optional(z.string({ error: 'expected a tag pattern (RE2 regular expression) as a string' })),
  image: nonEmpty,
  newName: z.optional(nonEmpty),
  /** Absent: no scan gate for the app. */
  scan: z.optional(scan),
  /** Where this app's tag lives in a stage, when not where the stage says (see config/tag-location.ts). */
  stages: z.optional(z.record(z.string(), appStageOverride)),
});

/**
 * `intake.sweep`: how often the sweep lists recent pushes and starts runs the intake missed (a
 * duration, in seconds), or `off`.
 */
const sweepPeriod = z.pipe(
  z._default(
    z.string({ error: 'expected a duration like 15m, or off' }).check(
      z.refine((text) => text === 'off' || durationSeconds(text) > 0, {
        error: (issue) => `expected a duration like 15m, or off, got "${String(issue.input)}"`,
      }),
    ),
    '15m',
  ),
  z.transform((text): number | 'off' => (text === 'off' ? 'off' : durationSeconds(text))),
);

const approval = z.strictObject({
  approvers: z
    .array(
      z.string().check(z.regex(/^[USW][A-Z0-9]{2,}$/, 'expected a Slack user id (U…) or user-group id (S…)')),
    )
    .check(z.minLength(1, 'list at least one approver')),
  timeout: duration('24h'),
});

/** A GitHub login: letters, digits and single hyphens, at most 39 characters. */
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/**
 * `stages[].pullRequest`: the stage's change goes through a pull request against its branch instead
 * of a direct commit; `auto` merges it once GitHub allows, `manual` waits for a person to.
 */
const pullRequest = z.strictObject({
  merge: z.enum(['auto', 'manual'], { error: 'expected auto or manual' }),
  method: z._default(
    z.enum(['merge', 'squash', 'rebase'], { error: 'expected merge, squash or rebase' }),
    'squash',
  ),
  reviewers: z.optional(
    z.array(
      z.string({ error: 'expected a GitHub login' }).check(
        z.refine((text) => GITHUB_LOGIN.test(text), {
          error: (issue) => `expected a GitHub login like octocat, got "${String(issue.input)}"`,
        }),
      ),
    ),
  ),
  timeout: duration('24h'),
});

const STAGE_NAME = /^[a-z][a-z0-9-]{0,29}$/;

const stage = z.strictObject({
  name: z.string().check(z.regex(STAGE_NAME, 'expected a lower-case name like staging')),
  /** Where this stage's file lives, when not in `gitops.repository` / `gitops.branch`. */
  repository: z.optional(repositoryName),
  branch: z.optional(nonEmpty),
  file: nonEmpty,
  /** Helm values files: the key path of the tag; `{app}` stands for the app's name. */
  valuesPath: z.optional(nonEmpty),
  digestPath: z.optional(nonEmpty),
  /** Default: see pinDigestDefault (it depends on the stage's kind, so the transform below fills it in). */
  pinDigest: z.optional(z.boolean()),
  createIfMissing: z._default(z.boolean(), false),
  argocdApp: nonEmpty,
  argocdProject: z.optional(nonEmpty),
  appNamespace: z.optional(nonEmpty),
  sync: z._default(z.boolean(), false),
  healthTimeout: duration('15m'),
  pollInterval: duration('10s'),
  approval: z.optional(approval),
  /** `auto`: a stage that turns Degraded at the run's commit is rolled back to the entry it pinned before. */
  rollback: z._default(z.enum(['auto', 'off'], { error: 'expected auto or off' }), 'auto'),
  /** Change-freeze windows (config/freeze.ts): a run waits before the stage while one is open. */
  freeze: z._default(z.array(freezeWindowSchema), []),
  /** Absent: the stage commits directly. */
  pullRequest: z.optional(pullRequest),
});

/**
 * Digests are pinned unless the stage cannot pin them, so what was approved is what runs even when a
 * tag is pushed again. A Helm stage pins only at its digestPath.
 */
export function pinDigestDefault(stage: {
  readonly valuesPath?: string | undefined;
  readonly digestPath?: string | undefined;
}): boolean {
  return stage.valuesPath === undefined || stage.digestPath !== undefined;
}

const stageWithDefaults = z.pipe(
  stage,
  z.transform(({ pinDigest, ...rest }) => ({
    ...rest,
    pinDigest: pinDigest ?? pinDigestDefault(rest),
  })),
);

const secretStore = z.strictObject({
  kind: z.enum(['SecretStore', 'ClusterSecretStore']),
  name: nonEmpty,
});

const secretSelection = z
  .strictObject({
    match: z.optional(nonEmpty),
    tags: z.optional(
      z.strictObject({
        environment: z.optional(nonEmpty),
        namespace: z.optional(nonEmpty),
      }),
    ),
    /** The repository and branch the file is written to. @default gitops.repository / gitops.branch */
    repository: z.optional(repositoryName),
    branch: z.optional(nonEmpty),
    file: nonEmpty,
    secretStore,
    refreshInterval: z._default(
      z.string().check(z.regex(/^\d+[smh]$/, 'expected a Kubernetes duration like 1h')),
      '1h',
    ),
    /** Namespaces a secret's `shiplane:namespace` tag may put its ExternalSecret in; others (all, when absent) are ignored. */
    namespaces: z.optional(
      z.array(
        z
          .string()
          .check(z.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes namespace name')),
      ),
    ),
    /** JSON keys to list in `spec.data`; without it a JSON secret is extracted whole (no key names in git). */
    keys: z.optional(
      z
        .array(z.string().check(z.minLength(1, 'expected a key name')))
        .check(z.minLength(1, 'list at least one key, or leave keys out')),
    ),
  })
  .check(
    z.superRefine((value, ctx) => {
      if (!value.match && !value.tags) {
        ctx.addIssue({ code: 'custom', message: 'set match, tags, or both', input: value });
      }
    }),
  );

/**
 * Where the stack runs in the account. `vpc`: the functions that call Argo CD or GitHub (argocd-health,
 * committer) run in these subnets with these security groups, imported by id (synth needs no
 * lookups). `secretsKmsKeyArns`: the customer-managed keys that encrypt the secrets the config names;
 * the functions that read those secrets may decrypt with them (through Secrets Manager only).
 */
const aws = z.strictObject({
  vpc: z.optional(
    z.strictObject({
      subnetIds: z
        .array(
          z.string().check(z.regex(/^subnet-[0-9a-f]{8,17}$/, 'expected a subnet id like subnet-0123abcd')),
        )
        .check(z.minLength(1, 'list at least one subnet')),
      securityGroupIds: z
        .array(
          z.string().check(z.regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id like sg-0123abcd')),
        )
        .check(z.minLength(1, 'list at least one security group')),
    }),
  ),
  secretsKmsKeyArns: z.optional(
    z
      .array(
        z
          .string()
          .check(
            z.regex(
              /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/,
              'expected a KMS key ARN like arn:aws:kms:eu-west-1:123456789012:key/<key id> (not an alias)',
            ),
          ),
      )
      .check(z.minLength(1, 'list at least one key ARN, or leave secretsKmsKeyArns out')),
  ),
});

export const configSchema = z
  .strictObject({
    gitops,
    argocd,
    slack,
    alerts: z._default(alerts, { email: [] }),
    apps: z
      .record(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected a lower-case app name')), app)
      .check(z.refine((apps) => Object.keys(apps).length > 0, 'configure at least one app')),
    stages: z.array(stageWithDefaults).check(z.minLength(1, 'configure at least one stage')),
    secrets: z._default(z.array(secretSelection), []),
    secretSync: z._default(z.strictObject({ interval: duration('15m') }), { interval: 900 }),
    intake: z._default(z.strictObject({ sweep: sweepPeriod }), { sweep: 900 }),
    /**
     * `logExecutionData`: the state machine's CloudWatch log carries each state's input and output. Off
     * by default: those hold task tokens and approval payloads, which the execution history (guarded
     * by IAM) keeps anyway.
     */
    observability: z._default(z.strictObject({ logExecutionData: z._default(z.boolean(), false) }), {
      logExecutionData: false,
    }),
    aws: z.optional(aws),
    /**
     * `changeFailureAlarm`: an alarm on the alert topic when an app's production change failure rate
     * over 7 days is above its target (5 %), judged only in weeks with at least
     * `changeFailureAlarmMinChanges` production changes. Off by default (README: why).
     */
    metrics: z._default(
      z.strictObject({
        changeFailureAlarm: z._default(z.enum(['on', 'off'], { error: 'expected on or off' }), 'off'),
        changeFailureAlarmMinChanges: z._default(
          z
            .int('expected a whole number of changes')
            .check(z.gte(1, 'expected at least 1 change'), z.lte(10_000, 'expected at most 10000 changes')),
          20,
        ),
      }),
      { changeFailureAlarm: 'off', changeFailureAlarmMinChanges: 20 },
    ),
  })
  .check(
    // Uniqueness runs even when other fields are wrong, so one run of `shiplane validate` lists every
    // problem; it reads only plain strings, which are there (or not) whatever else failed.
    z.superRefine(
      (config, ctx) => {
        const raw: unknown = config;
        if (!isObject(raw)) return;
        const byRepository = new Map<string, string>();
        for (const [name, entry] of Object.entries(isObject(raw.apps) ? raw.apps : {})) {
          const repository = isObject(entry) ? entry.ecrRepository : undefined;
          if (typeof repository !== 'string') continue;
          const other = byRepository.get(repository);
          if (other) {
            ctx.addIssue({
              code: 'custom',
              path: ['apps', name, 'ecrRepository'],
              message: `${repository} is already the repository of app ${other}; apps need distinct ECR repositories`,
            });
          } else {
            byRepository.set(repository, name);
          }
        }
        const seen = new Set<string>();
        (Array.isArray(raw.stages) ? raw.stages : []).forEach((entry: unknown, index) => {
          const name = isObject(entry) ? entry.name : undefined;
          if (typeof name !== 'string') return;
          if (seen.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['stages', index, 'name'],
              message: `duplicate stage name ${name}`,
            });
          }
          seen.add(name);
        });
      },
      { when: () => true },
    ),
    z.superRefine((config, ctx) => {
      let historyEvents = 0;
      // A run rolls back one stage at most, and that stage's rollback waits for Argo CD once more.
      let rollbackEvents = 0;
      config.stages.forEach((entry, index) => {
        if (entry.pollInterval > entry.healthTimeout) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', index, 'pollInterval'],
            message: 'must not be longer than healthTimeout',
          });
        }
        if (entry.digestPath && !entry.valuesPath) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', index, 'digestPath'],
            message: 'needs valuesPath',
          });
        }
        if (entry.valuesPath && !entry.digestPath && entry.pinDigest) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', index, 'pinDigest'],
            message:
              'a Helm stage (valuesPath) pins the digest at its digestPath; set digestPath (e.g. {app}.image.digest) or pinDigest: false',
          });
        }
        const waitEvents = Math.ceil(entry.healthTimeout / entry.pollInterval) * HISTORY_EVENTS_PER_POLL;
        historyEvents += waitEvents;
        if (entry.rollback === 'auto') rollbackEvents = Math.max(rollbackEvents, waitEvents);
        if (entry.pullRequest) {
          historyEvents +=
            maxPullRequestPolls(entry.pullRequest.timeout) * HISTORY_EVENTS_PER_PULL_REQUEST_POLL;
        }
      });
      historyEvents += rollbackEvents;
      // A run goes through one app's scan gate at most: the longest one counts.
      historyEvents += Math.max(
        0,
        ...Object.values(config.apps).map((app) =>
          app.scan ? Math.ceil(app.scan.timeout / SCAN_POLL_SECONDS) * HISTORY_EVENTS_PER_SCAN_POLL : 0,
        ),
      );
      for (const problem of tagLocationProblems(config)) ctx.addIssue({ code: 'custom', ...problem });
      if (historyEvents > HISTORY_EVENT_BUDGET) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages'],
          message: `healthTimeout / pollInterval (and the longest apps.*.scan.timeout, and pullRequest.timeout) allow about ${historyEvents} history events in a run; Shiplane keeps a run under ${HISTORY_EVENT_BUDGET} (Step Functions stops at 25,000) — raise pollInterval or lower healthTimeout, scan.timeout or pullRequest.timeout`,
        });
      }
    }),
  );

/** Whether a raw config value is a plain object (the raw-input checks beside the schema read it too). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The config as written (durations as text, references as text). */
export type ConfigInput = z.input<typeof configSchema>;
/** The validated config: durations in seconds, secret references parsed, defaults filled in. */
export type Config = z.output<typeof configSchema>;
export type StageConfig = Config['stages'][number];
export type AppConfig = Config['apps'][string];
export type ScanGateConfig = NonNullable<AppConfig['scan']>;
export type PullRequestConfig = NonNullable<StageConfig['pullRequest']>;
export type SecretSelection = Config['secrets'][number];
export type { SecretRef };
