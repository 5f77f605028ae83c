/**
 * What to do after a run that did not deploy: one rule, keyed by the run's outcome and the error it
 * ended with, so the Slack thread, the console and `shiplane show` give the same advice. Pure: the
 * callers read outcome, error and stage from wherever they have them.
 */
import { ERRORS, isSettledOutcome } from '../contracts/tasks.js';
import { type ExecutionTimeline, parseJson, summarizeRun } from './execution-timeline.js';

/** How a run ended, as far as the advice needs it. */
export interface RunEnding {
  readonly execution: string;
  readonly app: string;
  /** `deployed`, `superseded`, `rejected`, `expired`, `blocked`, `rolled-back`, `failed`, … */
  readonly outcome: string;
  /** The error name the run ended with (`Shiplane.Degraded`, `ArgoCdAuthenticationError`, `States.Timeout`, …). */
  readonly error?: string | undefined;
  /** The error's cause: the committer names the underlying error there (`failed with GitHubAuthError: …`). */
  readonly cause?: string | undefined;
  /** The stage the run stopped in. */
  readonly stage?: string | undefined;
  /** For a rolled-back run: the tag the stage is back on. */
  readonly restoredTag?: string | undefined;
}

export type NextStepKind = 'retry' | 'rollback' | 'fix-credentials' | 'fix-and-retry' | 'new-release';

/** The advice: what happened and what to do, in plain text (commands in backticks). */
export interface NextStep {
  readonly kind: NextStepKind;
  /** What happened, one sentence. */
  readonly summary: string;
  /** What to do next, naming the command. */
  readonly advice: string;
  /** The command the advice names first, to copy. */
  readonly command?: string;
}

/** The error a rolled-back run ends with (the run's own Fail state). */
export const ROLLED_BACK_ERROR = 'Shiplane.RolledBack';

/** Credentials a service refused, by error name: which token to fix. */
const CREDENTIAL_ERRORS: Readonly<Record<string, string>> = {
  GitHubAuthError: 'the GitHub token (gitops.github)',
  AncestryAccessError: 'the GitHub token (gitops.github)',
  ArgoCdAuthenticationError: 'the Argo CD token (argocd.token)',
  ArgoCdPermissionError: "the Argo CD token (argocd.token) or its role's permissions",
};

/** Errors that go away by themselves: a second run will most likely get through. */
const TRANSIENT_ERRORS = new Set([
  'States.Timeout',
  'States.HeartbeatTimeout',
  'BranchContentionError',
  'NonFastForwardError',
  'GitHubUnavailableError',
  'ArgoCdUnreachableError',
  'AncestryUnavailableError',
  'Lambda.ServiceException',
  'Lambda.TooManyRequestsException',
  'Lambda.SdkClientException',
  'Lambda.AWSLambdaException',
]);

/** The committer's cause names the error behind `Shiplane.CommitFailed`: `… failed with GitHubAuthError: …`. */
const UNDERLYING = /\bfailed with ([A-Za-z][A-Za-z0-9]*Error): /;

/** The error name that decides the advice: the one behind a commit failure, else the run's own. */
export function effectiveErrorName(error: string | undefined, cause: string | undefined): string | undefined {
  if (error === 'Shiplane.CommitFailed' && cause) return UNDERLYING.exec(cause)?.[1] ?? error;
  return error;
}

/** The advice for a run that ended; `undefined` when it deployed, was superseded or still runs. */
export function nextStep(ending: RunEnding): NextStep | undefined {
  const { execution, app, outcome } = ending;
  if (isSettledOutcome(outcome)) return undefined;
  const retry = `shiplane retry ${execution}`;
  const where = ending.stage ?? 'the stage';
  // `shiplane rollback` puts the stage back on the newest tag it ran healthy before this one.
  const rollbackCommand = `shiplane rollback ${app} --stage ${ending.stage ?? '<stage>'}`;
  const error = effectiveErrorName(ending.error, ending.cause);

  if (outcome === 'rejected' && error === ERRORS.pullRequestClosed) {
    return {
      kind: 'retry',
      summary: `The pull request to ${where} was closed without merging.`,
      advice: `If it should go ahead after all, \`${retry}\` opens a new one; otherwise fix and push a new tag.`,
      command: retry,
    };
  }
  if (outcome === 'expired' && error === ERRORS.pullRequestExpired) {
    return {
      kind: 'retry',
      summary: `Nobody merged the pull request to ${where} in time; Shiplane closed it.`,
      advice: `\`${retry}\` opens a new one (stages[].pullRequest.timeout says how long it may stay open).`,
      command: retry,
    };
  }
  if (outcome === 'rejected') {
    return {
      kind: 'retry',
      summary: `The promotion was rejected at ${where}'s approval.`,
      advice: `If it should go ahead after all, ask again with \`${retry}\`; otherwise fix and push a new tag.`,
      command: retry,
    };
  }
  if (outcome === 'expired') {
    return {
      kind: 'retry',
      summary: `Nobody approved the promotion to ${where} in time.`,
      advice: `Ask again with \`${retry}\`.`,
      command: retry,
    };
  }
  if (outcome === 'blocked') {
    return {
      kind: 'new-release',
      summary: 'The scan gate blocked the release before anything was committed.',
      advice: `Fix the findings and push a new tag; if a finding does not apply, add its CVE to apps.${app}.scan.ignore, deploy, and \`${retry}\`. A scan that did not finish in time: check the repository's scanning, then \`${retry}\`.`,
      command: retry,
    };
  }
  if (outcome === 'rolled-back' || error === ROLLED_BACK_ERROR) {
    const back = ending.restoredTag ? `back on ${ending.restoredTag}` : 'back on the tag it ran before';
    return {
      kind: 'new-release',
      summary: `${where} turned Degraded and Shiplane rolled it back.`,
      advice: `${where} is ${back}; fix and push a new tag, or \`${retry}\`.`,
      command: retry,
    };
  }

  const token = error ? CREDENTIAL_ERRORS[error] : undefined;
  if (token) {
    return {
      kind: 'fix-credentials',
      summary: `A service refused Shiplane's credentials (${error}).`,
      advice: `Fix ${token} in Secrets Manager, then \`${retry}\`.`,
      command: retry,
    };
  }
  if (error === 'Shiplane.Degraded') {
    const rollback = rollbackCommand;
    return {
      kind: 'rollback',
      summary: `${where} is Degraded at this release and was left that way.`,
      advice: `Roll it back with \`${rollback}\`, then fix and push a new tag.`,
      command: rollback,
    };
  }
  if (error === 'Shiplane.HealthTimeout') {
    const rollback = rollbackCommand;
    return {
      kind: 'retry',
      summary: `${where} did not become Synced and Healthy in time.`,
      advice: `If it was only slow, \`${retry}\`; if Argo CD still shows it unhealthy, roll it back with \`${rollback}\`.`,
      command: retry,
    };
  }
  if (error && TRANSIENT_ERRORS.has(error)) {
    return {
      kind: 'retry',
      summary: `A passing problem stopped the run (${error}).`,
      advice: `Start it again with \`${retry}\`.`,
      command: retry,
    };
  }
  return {
    kind: 'fix-and-retry',
    summary: error === 'Shiplane.CommitFailed' ? 'The change could not be committed.' : 'The run failed.',
    advice: `Fix what the error says${error ? ` (${error})` : ''}, then \`${retry}\`.`,
    command: retry,
  };
}

/** One line: what happened, then what to do. */
export function nextStepText(step: NextStep): string {
  return `${step.summary} ${step.advice}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * How a run ended, read from its history (what `shiplane show` and the console have); `undefined`
 * while it runs. The stage is the one of the last stage state the run was in (`Staging · Notify
 * degraded` → `staging`); a rejection or expiry keeps its error in the output's `error`.
 */
export function runEndingOf(execution: string, timeline: ExecutionTimeline): RunEnding | undefined {
  if (timeline.status === 'RUNNING' || timeline.status === 'PENDING_REDRIVE') return undefined;
  const summary = summarizeRun(timeline);
  const outcome = summary.outcome ?? 'failed';
  const kept = isObject(timeline.output) && isObject(timeline.output.error) ? timeline.output.error : {};
  const error = timeline.error?.error ?? (typeof kept.Error === 'string' ? kept.Error : undefined);
  let cause = timeline.error?.cause ?? (typeof kept.Cause === 'string' ? kept.Cause : undefined);
  // A Lambda error's cause is JSON; the committer's and our own are sentences.
  const parsed = parseJson(cause);
  if (isObject(parsed) && typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  // State names read `Staging · Commit new tag`; stage names are lower case.
  const last = [...timeline.steps].reverse().find((step) => step.name.includes(' · '));
  const stage = last?.name.slice(0, last.name.indexOf(' · ')).toLowerCase();
  const previous = summary.stages.find((s) => s.name === stage)?.previousTag;
  return {
    execution,
    app: summary.app ?? '<app>',
    outcome,
    error,
    cause,
    stage,
    restoredTag: previous ?? undefined,
  };
}
