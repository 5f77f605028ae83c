/**
 * Environment variables the stack sets on its functions. Only names and ARNs: secrets are read at
 * run time through the config's secret references.
 */
export const ENV = {
  /** The validated config as JSON (see shared/config/runtime.ts). Every function. */
  config: 'SHIPLANE_CONFIG',
  /** intake, sweep: the promotion state machine to start; committer: the runs it checks. */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /**
   * request-approval, slack-interaction, notify: approvals and release threads (pk `pk`, TTL `expiresAt`);
   * intake, sweep: released tags, when some stage deploys by tag alone.
   */
  approvalsTable: 'APPROVALS_TABLE',
  /** notify: the run records table (partition key `app`, sort key `execution`); optional. */
  runRecordsTable: 'RUN_RECORDS_TABLE',
  /** scan-events: runs waiting at a scan gate (partition key `image`, TTL `expiresAt`). */
  scanWaitsTable: 'SCAN_WAITS_TABLE',
  /** notify, committer: the SNS alert topic. */
  alertTopicArn: 'ALERT_TOPIC_ARN',
  /** secret-sync: the FIFO commit queue. */
  commitQueueUrl: 'COMMIT_QUEUE_URL',
  /** committer: how long a run waits for its commit (the commit task's TimeoutSeconds). */
  commitTaskTimeoutSeconds: 'COMMIT_TASK_TIMEOUT_SECONDS',
} as const;

/** Reads a required variable; a missing one is a deployment error that names the variable. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set; the stack sets it on the function`);
  return value;
}
