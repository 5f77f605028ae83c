/**
 * The live timeline `shiplane sandbox` and `shiplane run` print: one line per state that matters
 * (tasks, the approval wait, the end), with the time since the run started and what the state did —
 * the commit SHA, the Argo CD verdict, who approved.
 */
import { failedRunOutcome } from '../../shared/contracts/tasks.js';
import type { HistoryEventLike } from '../../shared/domain/execution-timeline.js';
import { formatElapsed, parseJson } from '../../shared/domain/execution-timeline.js';

/** An engine history event with the execution it belongs to (the engine's `event` payload). */
export interface TimelineEvent {
  readonly name: string;
  readonly event: HistoryEventLike;
}

export interface TimelinePrinterOptions {
  /** ANSI colours (a terminal, not a pipe). @default false */
  readonly color?: boolean;
}

const ANSI = { green: 32, red: 31, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The stage a state belongs to: `Staging · Commit new tag` → the `staging` entry of `$.stages`. */
function stageData(stateName: string, document: unknown): [string, Record<string, unknown>] | undefined {
  const prefix = stateName.split(' · ')[0];
  if (!prefix || prefix === stateName || !isObject(document) || !isObject(document.stages)) return undefined;
  for (const [stage, data] of Object.entries(document.stages)) {
    if (stage.charAt(0).toUpperCase() + stage.slice(1) === prefix && isObject(data)) return [stage, data];
  }
  return undefined;
}

/** What a finished state did, in a few words; undefined for states not worth a line. */
export function describeExit(stateName: string, output: unknown): string | undefined {
  const stage = stageData(stateName, output);
  const data = stage?.[1] ?? {};
  // A manual rollback (`shiplane rollback`) commits and waits in the stage's own slots, as a promotion does.
  const manual = stateName.includes(' manual rollback');
  if (
    (stateName.endsWith(' · Commit new tag') || stateName.endsWith(' · Commit manual rollback')) &&
    isObject(data.commit)
  ) {
    const { commit, status, previousTag } = data.commit;
    const was = str(previousTag) ? `, was ${previousTag}` : '';
    return `commit ${String(commit).slice(0, 7)} (${String(status)}${was})`;
  }
  const rollback = isObject(data.rollback) ? data.rollback : {};
  if (stateName.endsWith(' · Commit rollback') && isObject(rollback.commit)) {
    const target = isObject(rollback.target) ? str(rollback.target.tag) : undefined;
    return `rollback ${String(rollback.commit.commit).slice(0, 7)} (${String(rollback.commit.status)}, back to ${target ?? '?'})`;
  }
  if (stateName.endsWith(' · Wait for rollback') && isObject(rollback.health)) {
    const { status, message, attempt } = rollback.health;
    return `${String(status)}: ${String(message)} (check ${String(attempt)})`;
  }
  if (
    (stateName.endsWith(' · Wait for Argo CD') || stateName.endsWith(' · Wait for manual rollback')) &&
    isObject(data.health)
  ) {
    const { status, message, attempt } = data.health;
    return `${String(status)}: ${String(message)} (check ${String(attempt)})`;
  }
  if (
    (stateName.endsWith(' · Await approval') || stateName.endsWith(' · Await manual rollback approval')) &&
    isObject(data.approval)
  ) {
    const who = str(data.approval.byName) ?? str(data.approval.by) ?? 'someone';
    return `${manual ? 'rollback ' : ''}approved by ${who}${str(data.approval.via) ? ` via ${data.approval.via}` : ''}`;
  }
  return undefined;
}

/** Which states get a line when they finish. */
const WORTH_A_LINE = [
  ' · Commit new tag',
  ' · Wait for Argo CD',
  ' · Await approval',
  ' · Degraded',
  ' · Timed out',
  ' · Commit rollback',
  ' · Wait for rollback',
  ' · Await manual rollback approval',
  ' · Commit manual rollback',
  ' · Wait for manual rollback',
  ' · Manual rollback degraded',
  ' · Manual rollback timed out',
];
const TERMINAL = new Set(['Deployed', 'Rejected', 'Approval expired', 'Superseded', 'Failed']);

/** Builds a printer; feed it every engine event, it writes the lines worth reading. */
export function createTimelinePrinter(
  write: (line: string) => void,
  options: TimelinePrinterOptions = {},
): (payload: TimelineEvent) => void {
  const paint = (code: keyof typeof ANSI, text: string) =>
    options.color ? `\x1b[${ANSI[code]}m${text}\x1b[0m` : text;
  const started = new Map<string, number>();
  const at = (name: string, event: HistoryEventLike) => {
    const time = event.timestamp ? new Date(event.timestamp).getTime() : Date.now();
    return paint('dim', `+${formatElapsed(time - (started.get(name) ?? time))}`.padStart(8));
  };
  const line = (name: string, event: HistoryEventLike, mark: string, state: string, detail = '') =>
    write(`${at(name, event)}  ${mark} ${state.padEnd(34)}${detail ? ` ${detail}` : ''}`.trimEnd());

  return ({ name, event }) => {
    const type = event.type ?? '';
    if (type === 'ExecutionStarted') {
      started.set(name, event.timestamp ? new Date(event.timestamp).getTime() : Date.now());
      const input = parseJson(event.executionStartedEventDetails?.input);
      const release = isObject(input) && isObject(input.release) ? input.release : {};
      write('');
      const rollback = isObject(input) && isObject(input.rollback) ? str(input.rollback.stage) : undefined;
      const what = `${str(release.app) ?? ''} ${str(release.tag) ?? ''}${rollback ? ` (manual rollback of ${rollback})` : ''}`;
      write(`${paint('bold', name)}  ${paint('dim', what)}`);
      return;
    }
    const enteredName = event.stateEnteredEventDetails?.name;
    if (
      type.endsWith('StateEntered') &&
      (enteredName?.endsWith(' · Await approval') ||
        enteredName?.endsWith(' · Await manual rollback approval'))
    ) {
      line(
        name,
        event,
        paint('yellow', '⏸'),
        enteredName,
        'waiting for a decision in Slack (or the console)',
      );
      return;
    }
    if (type === 'TaskFailed' || type === 'TaskTimedOut') {
      const details = event.taskFailedEventDetails ?? event.taskTimedOutEventDetails;
      write(
        `${at(name, event)}  ${paint('yellow', '!')} ${paint('yellow', `${details?.error ?? 'Error'}: ${details?.cause ?? ''}`)}`.trimEnd(),
      );
      return;
    }
    const exitedName = event.stateExitedEventDetails?.name;
    if (type.endsWith('StateExited') && exitedName) {
      if (TERMINAL.has(exitedName)) return;
      if (!WORTH_A_LINE.some((suffix) => exitedName.endsWith(suffix))) return;
      const output = parseJson(event.stateExitedEventDetails?.output);
      const detail = describeExit(exitedName, output);
      const progressing = detail?.startsWith('progressing');
      const degraded =
        exitedName.endsWith(' · Degraded') ||
        exitedName.endsWith(' · Timed out') ||
        exitedName.endsWith(' · Manual rollback degraded') ||
        exitedName.endsWith(' · Manual rollback timed out') ||
        detail?.startsWith('degraded') ||
        // The stage's file no longer pins the release: a revert or a hand edit fails the run.
        detail?.startsWith('replaced');
      const mark = degraded ? paint('red', '✗') : progressing ? paint('cyan', '…') : paint('green', '✓');
      line(name, event, mark, exitedName, detail ?? '');
      return;
    }
    if (type === 'ExecutionSucceeded') {
      const output = parseJson(event.executionSucceededEventDetails?.output);
      const outcome = isObject(output) ? str(output.outcome) : undefined;
      const mark = outcome === 'deployed' ? paint('green', '✓') : paint('yellow', '■');
      line(
        name,
        event,
        mark,
        paint('bold', outcome === 'deployed' ? 'Deployed' : `Ended: ${outcome ?? 'succeeded'}`),
      );
      return;
    }
    if (type === 'ExecutionFailed' || type === 'ExecutionAborted' || type === 'ExecutionTimedOut') {
      const details =
        event.executionFailedEventDetails ??
        event.executionAbortedEventDetails ??
        event.executionTimedOutEventDetails;
      line(
        name,
        event,
        paint('red', '✗'),
        paint(
          'bold',
          type === 'ExecutionAborted'
            ? 'Stopped'
            : failedRunOutcome(details?.error) === 'rolled-back'
              ? 'Rolled back'
              : 'Failed',
        ),
        `${details?.error ?? ''}: ${details?.cause ?? ''}`,
      );
    }
  };
}
