/**
 * scan-events' dependencies, for Lambda and for local runs alike: the config (which apps have a
 * gate), the wait records (the scan waits table) and the task tokens it answers.
 * Locally the table is the local DynamoDB and the tokens are the engine's.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { dynamoScanWaits } from '../adapters/aws/scan-waits-table.js';
import { stepFunctionsTaskTokens } from '../adapters/aws/task-tokens.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import type { Reporter } from '../ports/reporter.js';
import type { ScanWaits } from '../ports/scan-waits.js';
import type { TaskTokens } from '../ports/task-tokens.js';
import type { ScanWakeDeps } from '../steps/scan-gate/wake.js';
import type { AwsAccess } from './aws.js';
import { lambdaReporter } from './lambda.js';

/**
 * DynamoDB and Step Functions as scan-events reaches them: short attempts, because a wait the
 * function could not record, or a run it could not wake, only falls back to the next poll.
 */
export const SCAN_EVENTS_AWS_CLIENT = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
} as const satisfies DynamoDBClientConfig;

export function scanEventsDynamoDB(access: AwsAccess = {}): DynamoDBClient {
  return new DynamoDBClient({ ...SCAN_EVENTS_AWS_CLIENT, ...access });
}

/** What differs between Lambda and a local run. */
export interface ScanEventsPlatform {
  readonly config: Config;
  readonly waits: ScanWaits;
  readonly taskTokens: TaskTokens;
  readonly reporter: Reporter;
  /** @default the system clock */
  readonly now?: () => Date;
}

export function scanEventsDeps(platform: ScanEventsPlatform): ScanWakeDeps {
  return {
    config: platform.config,
    waits: platform.waits,
    taskTokens: platform.taskTokens,
    reporter: platform.reporter,
    now: platform.now ?? (() => new Date()),
  };
}

/** Lambda: the config from SHIPLANE_CONFIG, the table from SCAN_WAITS_TABLE, Step Functions in the function's account. */
export function deployedScanEvents(env: NodeJS.ProcessEnv = process.env): () => ScanWakeDeps {
  let deployed: ScanWakeDeps | undefined;
  return () => {
    deployed ??= scanEventsDeps({
      config: runtimeConfig(parseConfigShape, env),
      waits: dynamoScanWaits(scanEventsDynamoDB(), requireEnv(ENV.scanWaitsTable, env)),
      taskTokens: stepFunctionsTaskTokens(new SFNClient(SCAN_EVENTS_AWS_CLIENT)),
      reporter: lambdaReporter(),
    });
    return deployed;
  };
}
