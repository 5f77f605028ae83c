/**
 * The intake's dependencies, for Lambda and for local runs alike: the config (its tag patterns
 * checked with RE2: the intake and the sweep are the handlers that match them), where runs start, and where
 * released tags are claimed when some stage deploys by tag alone.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { dynamoReleaseClaims } from '../adapters/aws/release-claims.js';
import { stepFunctionsStartExecution } from '../adapters/aws/step-functions.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigWithTagPatterns } from '../config/validate.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import { tagOnlyStages } from '../domain/release.js';
import type { StartExecution } from '../ports/executions.js';
import type { ReleaseClaims } from '../ports/release-claims.js';
import type { IntakeDeps } from '../steps/intake/intake.js';
import type { AwsAccess } from './aws.js';

/** DynamoDB (the release claims) as the intake reaches it: the SDK's default attempts and timeouts. */
export function intakeDynamoDB(access: AwsAccess = {}): DynamoDBClient {
  return new DynamoDBClient({ ...access });
}

/** What differs between Lambda and a local run. */
export interface IntakePlatform {
  /** Validated in full, tag patterns included (validate.ts's parseConfigWithTagPatterns). */
  readonly config: Config;
  readonly startExecution: StartExecution;
  /** Asked for only when some stage deploys by tag alone. */
  readonly releaseClaims: () => ReleaseClaims;
}

export function intakeDeps(platform: IntakePlatform): IntakeDeps {
  const { config } = platform;
  return {
    config,
    startExecution: platform.startExecution,
    ...(tagOnlyStages(config).length > 0 ? { releaseClaims: platform.releaseClaims() } : {}),
  };
}

/**
 * Lambda: the config from SHIPLANE_CONFIG (tag patterns checked with RE2), the state machine from
 * STATE_MACHINE_ARN and, when some stage deploys by tag alone, release claims in the APPROVALS_TABLE
 * (the stack sets it only then). Built on the first batch and kept while the environment is warm.
 */
export function deployedIntake(env: NodeJS.ProcessEnv = process.env): () => IntakeDeps {
  let deployed: IntakeDeps | undefined;
  return () => {
    deployed ??= intakeDeps({
      config: runtimeConfig(parseConfigWithTagPatterns, env),
      startExecution: stepFunctionsStartExecution(new SFNClient({}), requireEnv(ENV.stateMachineArn, env)),
      releaseClaims: () => dynamoReleaseClaims(intakeDynamoDB(), requireEnv(ENV.approvalsTable, env)),
    });
    return deployed;
  };
}
