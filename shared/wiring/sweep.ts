/**
 * The sweep's dependencies, for Lambda and for local runs alike: the intake's (the config with its
 * tag patterns checked by RE2, where runs start, release claims when some stage deploys by tag
 * alone — built by intakeDeps, so the sweep starts runs exactly as the intake does) and where recent
 * pushes are listed (ECR).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { ecrRecentImages } from '../adapters/aws/ecr-recent-images.js';
import { dynamoReleaseClaims } from '../adapters/aws/release-claims.js';
import { stepFunctionsStartExecution } from '../adapters/aws/step-functions.js';
import { runtimeConfig } from '../config/runtime.js';
import { parseConfigWithTagPatterns } from '../config/validate.js';
import { ENV, requireEnv } from '../contracts/environment.js';
import type { RecentImages } from '../ports/recent-images.js';
import type { SweepDeps } from '../steps/sweep/sweep.js';
import { ecrClient } from './ecr.js';
import { type IntakePlatform, intakeDeps, intakeDynamoDB } from './intake.js';

/** What the handler needs; the reporter comes from the handler (Powertools in Lambda). */
export type SweepHandlerDeps = Omit<SweepDeps, 'reporter'>;

/** What differs between Lambda and a local run: the intake's platform, and the registry. */
export interface SweepPlatform extends IntakePlatform {
  readonly recentImages: RecentImages;
}

export function sweepDeps(platform: SweepPlatform): SweepHandlerDeps {
  return { ...intakeDeps(platform), recentImages: platform.recentImages };
}

/**
 * Lambda: the intake's environment (SHIPLANE_CONFIG, STATE_MACHINE_ARN, APPROVALS_TABLE when tags are
 * claimed) and ECR in the function's own account and region. Built on the first invocation and kept
 * while the environment is warm.
 */
export function deployedSweep(env: NodeJS.ProcessEnv = process.env): () => SweepHandlerDeps {
  let deployed: SweepHandlerDeps | undefined;
  return () => {
    deployed ??= sweepDeps({
      config: runtimeConfig(parseConfigWithTagPatterns, env),
      startExecution: stepFunctionsStartExecution(new SFNClient({}), requireEnv(ENV.stateMachineArn, env)),
      releaseClaims: () => dynamoReleaseClaims(intakeDynamoDB(), requireEnv(ENV.approvalsTable, env)),
      recentImages: ecrRecentImages(ecrClient()),
    });
    return deployed;
  };
}
