/**
 * The input and output of every task in the promotion state machine, in one place. Handlers parse
 * their input with these schemas; the state machine, its tests and the local engine build and read
 * the same shapes. Field names are what a person sees in the Step Functions console.
 */
import * as z from './zod.js';

const sha = z.string().check(z.regex(/^[0-9a-f]{40}$/, 'expected a 40-character commit SHA'));
/** The digests ECR reports: sha256 in lower-case hex. */
export const IMAGE_DIGEST = /^sha256:[0-9a-f]{64}$/;
const digest = z.string().check(z.regex(IMAGE_DIGEST, 'expected an image digest sha256:<64 hex>'));
const isoTime = z.iso.datetime({ offset: true });
const nonEmpty = z.string().check(z.minLength(1));
const positiveInt = z.int().check(z.positive());

/** What was pushed: the run's input, written by the intake Lambda. */
export const releaseSchema = z.strictObject({
  app: nonEmpty,
  ecrRepository: nonEmpty,
  /** The kustomize `images[].name` the tag is written to. */
  image: nonEmpty,
  /** Kustomize `newName`, set only when the app configures one. */
  newName: z.optional(nonEmpty),
  tag: nonEmpty,
  digest,
  registryId: z.string().check(z.regex(/^\d{12}$/)),
  region: nonEmpty,
  pushedAt: isoTime,
});
export type Release = z.infer<typeof releaseSchema>;

/**
 * What `shiplane rollback` asks for, set in the run's input at StartExecution: put `stage` back on
 * the run's `release` (a tag the stage ran healthy before). The rollback run touches that stage
 * only, and its commit carries this object unchanged (`manualRollback`), so the committer admits the
 * move to an older version only for the run whose input asks for exactly this (see run-check).
 */
export const manualRollbackSchema = z.strictObject({
  stage: nonEmpty,
  /** What the stage ran when the rollback was asked (Shiplane's record of it); null when unknown. */
  from: z.nullable(z.strictObject({ tag: nonEmpty, digest: z.optional(digest) })),
  /** Why, in one line (`--reason`). */
  reason: z.string().check(z.minLength(1), z.maxLength(500)),
  /** Who asked: the AWS caller identity, or the sandbox. */
  by: z.optional(z.string().check(z.minLength(1), z.maxLength(300))),
});
export type ManualRollback = z.infer<typeof manualRollbackSchema>;

/** Input of every promotion execution. */
export const runInputSchema = z.strictObject({
  /** The release to deploy; for a manual rollback, the earlier release the stage goes back to. */
  release: releaseSchema,
  /** Set by `shiplane retry`: the execution this run retries (the release's first run). */
  retryOf: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,80}$/, 'expected an execution name'))),
  /** Set by `shiplane rollback`: this run puts one stage back on `release` and touches nothing else. */
  rollback: z.optional(manualRollbackSchema),
});
export type RunInput = z.infer<typeof runInputSchema>;

/**
 * What makes an image change a rollback: the run (`of`, its execution name) puts back the entry the
 * stage pinned before it, because its own entry (`fromTag`, `fromDigest`) turned out bad. The
 * committer admits this one move to an older version only while the stage still pins that entry.
 */
export const rollbackOfSchema = z.strictObject({
  of: nonEmpty,
  fromTag: nonEmpty,
  fromDigest: digest,
  /** Why, in one line: the health verdict that started the rollback. */
  reason: nonEmpty,
});
export type RollbackOf = z.infer<typeof rollbackOfSchema>;

/**
 * One image change the committer applies to the GitOps repository. The state machine builds it from
 * the stage's config and the run's release; `{app}` in a Helm key path stands for `release.app`.
 *
 * Three kinds share this shape, named by `edit` (see imageChangeKind):
 * - a promotion (neither `rollback` nor `manualRollback`): `release` is the run's own release,
 *   moving the stage forward;
 * - a rollback (`rollback` set): `release` is the entry the stage pinned before the run, and
 *   `rollback` names the run's entry it replaces. When that earlier entry had no digest, `pinDigest`
 *   is false and only the tag is restored (`release.digest` is then the run's and is not written);
 * - a manual rollback (`manualRollback` set, by a `shiplane rollback` run): `release` is the run's
 *   own release, an earlier one the stage ran healthy, and `manualRollback` is the run's input
 *   `rollback`, which lets the change move the stage back.
 */
export const IMAGE_EDITS = ['promotion', 'rollback', 'manual-rollback'] as const;
export type ImageEdit = (typeof IMAGE_EDITS)[number];

export const imageChangeSchema = z.strictObject({
  kind: z.literal('image'),
  /**
   * Which of the three edits this is, as the state machine wrote it. Absent in a message from a state
   * machine deployed before the field existed (a run in flight during an upgrade): the edit is then
   * inferred from `rollback` and `manualRollback`, as it was. When present it must agree with them
   * (commitRequestSchema says which way they disagree).
   */
  edit: z.optional(z.enum(IMAGE_EDITS)),
  stage: nonEmpty,
  file: nonEmpty,
  release: releaseSchema,
  pinDigest: z.boolean(),
  createIfMissing: z.boolean(),
  /** Helm values key paths; absent for a kustomization. */
  valuesPath: z.optional(nonEmpty),
  digestPath: z.optional(nonEmpty),
  rollback: z.optional(rollbackOfSchema),
  /** A manual rollback run's change: its input's `rollback`, copied by the state machine. */
  manualRollback: z.optional(manualRollbackSchema),
});
export type ImageChange = z.infer<typeof imageChangeSchema>;
/** An image change that rolls a stage back to the entry it pinned before a run. */
export type RollbackChange = ImageChange & { readonly rollback: RollbackOf };

/**
 * The edit an image change's fields make it: no `rollback` nor `manualRollback`, a promotion; one of
 * them, that rollback; both, none (no change is both).
 */
export function inferredImageEdit(change: ImageChange): ImageEdit | undefined {
  if (change.rollback && change.manualRollback) return undefined;
  if (change.rollback) return 'rollback';
  return change.manualRollback ? 'manual-rollback' : 'promotion';
}

/**
 * Whether an image change moves the stage forward to a run's release, rolls the run's entry back, or
 * puts the stage back on the release a manual rollback run was started with: its `edit`, or for a
 * message without one (sent before an upgrade) what its fields make it; undefined for one without
 * `edit` that carries both rollbacks (applying it refuses it). A parsed request's `edit` always
 * agrees with its fields (commitRequestSchema refuses one that does not).
 */
export function imageChangeKind(change: ImageChange): ImageEdit | undefined {
  return change.edit ?? inferredImageEdit(change);
}

/** What a change's fields say, for an error that names both sides. */
function describeEditFields(change: ImageChange): string {
  if (change.rollback && change.manualRollback) return 'both `rollback` and `manualRollback`';
  if (change.rollback) return '`rollback` (a rollback)';
  if (change.manualRollback) return '`manualRollback` (a manual rollback)';
  return 'neither `rollback` nor `manualRollback` (a promotion)';
}

/**
 * The entry of the run that sent an image change: its release for a promotion, the entry being
 * rolled back for a rollback. What a check of "is this the sender's own release" compares.
 */
export function runEntryOf(change: ImageChange): { app: string; tag: string; digest: string } {
  const { app } = change.release;
  return change.rollback
    ? { app, tag: change.rollback.fromTag, digest: change.rollback.fromDigest }
    : { app, tag: change.release.tag, digest: change.release.digest };
}

/** Replace (or, with `content: null`, delete) a whole file: how secret sync writes manifests. */
export const fileChangeSchema = z.strictObject({
  kind: z.literal('file'),
  stage: nonEmpty,
  file: nonEmpty,
  content: z.nullable(z.string()),
  /** One line for the commit message, e.g. `Sync external secrets for production (2 changed)`. */
  summary: nonEmpty,
});
export type FileChange = z.infer<typeof fileChangeSchema>;

export const commitChangeSchema = z.discriminatedUnion('kind', [imageChangeSchema, fileChangeSchema]);
export type CommitChange = z.infer<typeof commitChangeSchema>;

/**
 * The body of a message on the FIFO commit queue. An image change always comes from a run that
 * waits for it, so it must carry that run's task token and execution name (the committer checks the
 * run before writing); a file change from secret sync has neither.
 */
export const commitRequestSchema = z
  .strictObject({
    /** Present when a run waits for the result (`sqs:sendMessage.waitForTaskToken`). */
    taskToken: z.optional(nonEmpty),
    execution: z.optional(nonEmpty),
    repository: z.string().check(z.regex(/^[^/\s]+\/[^/\s]+$/)),
    branch: nonEmpty,
    change: commitChangeSchema,
  })
  .check(
    z.superRefine((request, ctx) => {
      if (request.change.kind !== 'image') return;
      const { edit } = request.change;
      if (edit !== undefined && edit !== inferredImageEdit(request.change)) {
        ctx.addIssue({
          code: 'custom',
          path: ['change', 'edit'],
          message: `the change says it is a ${edit}, but it carries ${describeEditFields(request.change)}; nothing is written for a change whose edit and fields disagree`,
        });
      }
      for (const field of ['taskToken', 'execution'] as const) {
        if (request[field] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `an image change needs the ${field === 'taskToken' ? 'task token' : 'execution name'} of the run that waits for it`,
          });
        }
      }
    }),
  );
export type CommitRequest = z.infer<typeof commitRequestSchema>;

/** What the committer sends back through the task token. */
export const commitResultSchema = z.strictObject({
  commit: sha,
  status: z.enum(['committed', 'unchanged']),
  previousTag: z.nullable(z.string()),
  /**
   * The digest the entry pinned before, or null when it pinned none (what a rollback restores).
   * The committer always sets it; results written before it existed (older runs' history) lack it.
   */
  previousDigest: z.optional(z.nullable(digest)),
  /** Set when the change reached the branch through a pull request: its number (the commit is its merge). */
  pullRequest: z.optional(positiveInt),
  /** That pull request's page, and who merged it when GitHub says (Shiplane's own merge: absent). */
  pullRequestUrl: z.optional(nonEmpty),
  mergedBy: z.optional(nonEmpty),
});
export type CommitResult = z.infer<typeof commitResultSchema>;

/** Input of the Argo CD check task, once per poll. */
export const healthCheckInputSchema = z.strictObject({
  execution: nonEmpty,
  stage: nonEmpty,
  argocdApp: nonEmpty,
  argocdProject: z.optional(nonEmpty),
  appNamespace: z.optional(nonEmpty),
  sync: z.boolean(),
  commit: sha,
  /** What the stage's file must still pin at the revision Argo CD reports (the commit's settings). */
  release: releaseSchema,
  /**
   * Where the app's tag lives (config/tag-location.ts decides; the check asks it again). Absent on a
   * stage whose apps' tags live in several places: one check task serves them all.
   */
  file: z.optional(nonEmpty),
  pinDigest: z.boolean(),
  valuesPath: z.optional(nonEmpty),
  digestPath: z.optional(nonEmpty),
  /** Poll number, starting at 1; the state machine stops at `maxAttempts`. */
  attempt: positiveInt,
  maxAttempts: positiveInt,
});
export type HealthCheckInput = z.infer<typeof healthCheckInputSchema>;

/**
 * `superseded`: a newer release replaced ours in the stage's file; `replaced`: anything else did (a
 * revert, a hand edit): the stage no longer runs what the run would promote.
 */
export const healthVerdictSchema = z.enum(['healthy', 'progressing', 'degraded', 'superseded', 'replaced']);
export type HealthVerdict = z.infer<typeof healthVerdictSchema>;

export const healthCheckResultSchema = z.strictObject({
  status: healthVerdictSchema,
  /** One line a person can act on: `Deployment backend 1/3 ready`. */
  message: z.string(),
  revision: z.nullable(z.string()),
  syncStatus: z.string(),
  healthStatus: z.string(),
  checkedAt: isoTime,
  attempt: positiveInt,
});
export type HealthCheckResult = z.infer<typeof healthCheckResultSchema>;

/** Input of the approval task (`lambda:invoke.waitForTaskToken`). */
export const approvalRequestSchema = z.strictObject({
  taskToken: nonEmpty,
  execution: nonEmpty,
  stage: nonEmpty,
  release: releaseSchema,
  approvers: z.array(nonEmpty).check(z.minLength(1)),
  timeoutSeconds: positiveInt,
  /** Results of the stages so far, keyed by stage name (commit, health). */
  stages: z.record(z.string(), z.unknown()),
  /** Set when the run is a manual rollback: the message asks to roll back, not to promote. */
  rollback: z.optional(manualRollbackSchema),
});
export type ApprovalRequest = z.infer<typeof approvalRequestSchema>;

/** Sent with SendTaskSuccess when someone approves; a rejection is SendTaskFailure(Shiplane.Rejected). */
export const approvalDecisionSchema = z.strictObject({
  decision: z.literal('approved'),
  approvalId: nonEmpty,
  by: nonEmpty,
  byName: z.optional(z.string()),
  at: isoTime,
  reason: z.optional(z.string()),
  via: z.enum(['slack', 'cli']),
  /** Approved during a change freeze (break glass): the freeze's end and notice; `reason` says why. */
  breakGlass: z.optional(z.strictObject({ until: isoTime, freeze: nonEmpty })),
});
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

/** One finding the scan gate lists: what a person needs to act (id, severity, package, fix, link). */
export const scanFindingSchema = z.strictObject({
  id: nonEmpty,
  severity: nonEmpty,
  package: z.optional(z.string()),
  installedVersion: z.optional(z.string()),
  fixedIn: z.optional(z.string()),
  url: z.optional(z.string()),
});
export type ScanFindingView = z.infer<typeof scanFindingSchema>;

/** Input of the scan-gate task, once per poll; the app's gate settings come from the config. */
export const scanGateInputSchema = z.strictObject({
  execution: nonEmpty,
  release: releaseSchema,
  /** Poll number, starting at 1; at `maxAttempts` a scan still not finished blocks the run. */
  attempt: positiveInt,
  maxAttempts: positiveInt,
});
export type ScanGateInput = z.infer<typeof scanGateInputSchema>;

/** `pending`: no finished scan yet, the state machine waits and asks again. */
export const scanGateResultSchema = z.strictObject({
  verdict: z.enum(['pass', 'blocked', 'pending']),
  /** One line: `2 critical findings at or above high`, `no finished scan within 30m (scan IN_PROGRESS)`. */
  reason: nonEmpty,
  /** The worst blocking findings, worst first, capped; empty unless blocked by findings. */
  findings: z.array(scanFindingSchema),
  /** Blocking findings in all. */
  total: z.int().check(z.nonnegative()),
  /** Findings at or above the gate that the ignore list let through. */
  ignored: z.int().check(z.nonnegative()),
  checkedAt: isoTime,
  attempt: positiveInt,
});
export type ScanGateResult = z.infer<typeof scanGateResultSchema>;

/**
 * Where a stage's pull request stands (`stages[].pullRequest`), as the pull-request task answers and
 * the run keeps it (`$.stages.<stage>.pullRequest`): `open` waits `waitSeconds` and looks again;
 * `merged` and `unchanged` (the base already carries the release, nothing to propose) carry the
 * commit result the Argo CD wait reads; the others end the run with that outcome.
 */
export const PULL_REQUEST_STATES = [
  'open',
  'merged',
  'unchanged',
  'rejected',
  'expired',
  'superseded',
] as const;
export const pullRequestAnswerSchema = z.strictObject({
  state: z.enum(PULL_REQUEST_STATES),
  /** One line for the thread and the run's error: `#12 merged by alice`, `#12 closed by bob without merging`. */
  message: nonEmpty,
  /** Absent only for `unchanged` (and a `superseded` found before anything was opened). */
  number: z.optional(positiveInt),
  url: z.optional(nonEmpty),
  repository: nonEmpty,
  /** The head branch, `shiplane/<app>/<stage>/<tag>`. */
  branch: z.optional(nonEmpty),
  /** The commit the head branch carries (what `auto` merges, only if still there). */
  headCommit: z.optional(sha),
  /** The branch it merges into (the stage's branch). */
  base: nonEmpty,
  /** The stage's `pullRequest.merge`: who merges it. */
  merge: z.optional(z.enum(['auto', 'manual'])),
  openedAt: z.optional(isoTime),
  /** After this instant an open pull request is closed and the run ends `expired`. */
  deadline: z.optional(isoTime),
  /** `open`: seconds before the next look (the poll schedule in config/pull-request-poll.ts). */
  waitSeconds: positiveInt,
  /** Who merged it (`merged`) or closed it (`rejected`), when GitHub says. */
  by: z.optional(z.nullable(z.string())),
  /** What the entry pinned before the change (for the commit result and a rollback). */
  previousTag: z.nullable(z.string()),
  previousDigest: z.nullable(digest),
  /** `merged` and `unchanged`: the commit result, copied to `$.stages.<stage>.commit`. */
  commit: z.optional(commitResultSchema),
  checkedAt: isoTime,
});
export type PullRequestAnswer = z.infer<typeof pullRequestAnswerSchema>;

const pullRequestTaskFields = {
  execution: nonEmpty,
  stage: nonEmpty,
  release: releaseSchema,
  /**
   * A promotion, a manual rollback (`manualRollback`: the run's input `rollback`), or the automatic
   * rollback of a Degraded stage (`rollback`; `release` is then the entry put back).
   */
  edit: z.enum(IMAGE_EDITS),
  manualRollback: z.optional(manualRollbackSchema),
  rollback: z.optional(rollbackOfSchema),
  /** The automatic rollback's: whether the entry put back pins a digest. @default the stage's pinDigest */
  pinDigest: z.optional(z.boolean()),
};

/** Input of the pull-request task: `open` proposes the run's change; `check` looks at it again. */
export const pullRequestInputSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('open'),
    ...pullRequestTaskFields,
    /** The stage's approval, when it has one: approval comes first, and the body names the approver. */
    approval: z.optional(approvalDecisionSchema),
    /** The run's stages so far (`$.stages`): the earlier stages' commit and health, for the body. */
    evidence: z.optional(z.record(z.string(), z.unknown())),
  }),
  z.strictObject({
    action: z.literal('check'),
    ...pullRequestTaskFields,
    /** The previous answer (open's, or the last check's). */
    pullRequest: pullRequestAnswerSchema,
  }),
]);
export type PullRequestInput = z.infer<typeof pullRequestInputSchema>;

/** The error names a run can end with, as the state machine's Catch sees them. */
export const ERRORS = {
  rejected: 'Shiplane.Rejected',
  degraded: 'Shiplane.Degraded',
  healthTimeout: 'Shiplane.HealthTimeout',
  commitFailed: 'Shiplane.CommitFailed',
  /** A newer release already replaced the change (the committer never moves a stage back): not a failure. */
  superseded: 'Shiplane.Superseded',
  /** The stage's file no longer pins our release, and not because of a newer one: a revert or a hand edit. */
  replaced: 'Shiplane.Replaced',
  /** The approval task answered without `decision: approved` and an approver: production does not move. */
  approvalInvalid: 'Shiplane.ApprovalInvalid',
  /** The stage turned Degraded and was rolled back to its earlier entry: a failed change, counted by the alarm. */
  rolledBack: 'Shiplane.RolledBack',
  /** A manual rollback run names a stage the state machine does not have: nothing was changed. */
  rollbackInvalid: 'Shiplane.RollbackInvalid',
  /** The stage's pull request was closed without merging (by a person): the run ends `rejected`. */
  pullRequestClosed: 'Shiplane.PullRequestClosed',
  /** Nobody merged the stage's pull request within `pullRequest.timeout`: the run ends `expired`. */
  pullRequestExpired: 'Shiplane.PullRequestExpired',
} as const;

export const notificationEventSchema = z.enum([
  'started',
  'committed',
  'healthy',
  'approval-requested',
  'approved',
  'rejected',
  'expired',
  'deployed',
  'degraded',
  'timed-out',
  'superseded',
  'failed',
  'rolling-back',
  'rolled-back',
  /** The scan gate stopped the release before anything was committed (detail: the gate's result). */
  'blocked',
  /** The stage is in a change freeze; the detail is the freeze check's result (contracts/freeze.ts). */
  'frozen',
  /** The stage's pull request was opened (detail: the pull-request task's answer). */
  'pull-request',
]);
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

/** Input of the notify task. Notify never fails a run: Slack or SNS errors are logged and counted. */
export const notificationSchema = z.strictObject({
  event: notificationEventSchema,
  execution: nonEmpty,
  release: releaseSchema,
  stage: z.optional(nonEmpty),
  /** Whatever the event is about: a commit result, a health result, a decision, an error. */
  detail: z.optional(z.unknown()),
});
export type Notification = z.infer<typeof notificationSchema>;

export const notificationResultSchema = z.strictObject({
  slack: z.enum(['posted', 'failed', 'skipped']),
  alert: z.enum(['published', 'failed', 'skipped']),
});
export type NotificationResult = z.infer<typeof notificationResultSchema>;

/**
 * A stage's rollback as the run keeps it (`$.stages.<stage>.rollback`) and the rolling-back and
 * rolled-back notifications carry it: the entry put back, why, and — once there — the commit and
 * the health verdict at it.
 */
export const rollbackProgressSchema = z.object({
  /** The entry put back: the tag, and the digest when the earlier entry pinned one. */
  target: z.object({ tag: nonEmpty, digest: z.optional(digest) }),
  /** Whether the digest is written with the tag. */
  pinDigest: z.boolean(),
  /** The error the stage failed with (`Shiplane.Degraded`, `Shiplane.HealthTimeout`) and its cause. */
  error: nonEmpty,
  reason: z.string(),
  commit: z.optional(commitResultSchema),
  health: z.optional(healthCheckResultSchema),
});
export type RollbackProgress = z.infer<typeof rollbackProgressSchema>;

/**
 * Every outcome a run can end with, and what it means. `ends`: how Step Functions ends the run (the
 * state machine's Pass states write the SUCCEEDED ones into `$.outcome`; a Fail state has no output,
 * so the FAILED ones are read from the error, see failedRunOutcome). `settled`: nothing needs doing,
 * the release is in the stage or a newer one already is (`shiplane run` exits 0, no next step).
 * The one list of outcomes: the schema, the CLI's filters and exit codes, the retry rule, the next-step
 * advice and the state machine's outcome states all read it.
 */
export const RUN_OUTCOMES = {
  deployed: { ends: 'SUCCEEDED', settled: true },
  rejected: { ends: 'SUCCEEDED', settled: false },
  expired: { ends: 'SUCCEEDED', settled: false },
  superseded: { ends: 'SUCCEEDED', settled: true },
  /** A gate (the image scan) stopped the release before anything was committed: a verdict, not a failure. */
  blocked: { ends: 'SUCCEEDED', settled: false },
  'rolled-back': { ends: 'FAILED', settled: false },
  failed: { ends: 'FAILED', settled: false },
} as const satisfies Record<string, { readonly ends: 'SUCCEEDED' | 'FAILED'; readonly settled: boolean }>;
export type RunOutcome = keyof typeof RUN_OUTCOMES;

/** What a finished run's output says, read by the CLI and the sandbox. */
export const runOutcomeSchema = z.enum(Object.keys(RUN_OUTCOMES) as [RunOutcome, ...RunOutcome[]]);

/** The outcome a text names, if it names one (a run's output, a `--status` filter). */
export function asRunOutcome(text: unknown): RunOutcome | undefined {
  return typeof text === 'string' && Object.hasOwn(RUN_OUTCOMES, text) ? (text as RunOutcome) : undefined;
}

/** True when the run's release needs nothing more: deployed, or a newer release is already there. */
export function isSettledOutcome(outcome: string | undefined): boolean {
  const known = asRunOutcome(outcome);
  return known !== undefined && RUN_OUTCOMES[known].settled;
}

/**
 * The outcome of a run that ended FAILED (a Fail state has no output to carry one): `rolled-back`
 * for the `Rolled back` state's error, `failed` for anything else.
 */
export function failedRunOutcome(error: string | undefined): 'rolled-back' | 'failed' {
  return error === ERRORS.rolledBack ? 'rolled-back' : 'failed';
}
