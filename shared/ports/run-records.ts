/**
 * Where run records are kept (DynamoDB in AWS and in the sandbox: shared/adapters/aws/run-records-table.ts).
 * notify adds each event of a run as it happens and seals the record when the run ends; reports read
 * sealed records only.
 */
import type { RunOutcome } from '../contracts/tasks.js';
import type { RunHeader, RunMilestone, RunRecord } from '../domain/run-record.js';

/** What recording an event did: `sealed` ended the record, `already-sealed` found it ended (a retried notify). */
export type RecordedAs = 'recorded' | 'sealed' | 'already-sealed';

export interface Recorded {
  readonly status: RecordedAs;
  /** The whole record, when this event sealed it (what the run's metrics are drawn from). */
  readonly record?: RunRecord;
}

export interface RunRecordStore {
  /**
   * Adds the milestone to the run's record, creating the record on its first event. With `outcome`,
   * the event ends the run: the record is sealed at the milestone's time, once (a second seal changes
   * nothing and answers `already-sealed`).
   */
  record(header: RunHeader, milestone: RunMilestone, outcome?: RunOutcome): Promise<Recorded>;
  /** The app's sealed records that ended in [since, until), oldest first. */
  ended(app: string, since: Date, until: Date): Promise<RunRecord[]>;
}
