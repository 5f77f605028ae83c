/**
 * scan-gate's dependencies, for Lambda and for local runs alike: the config (the apps' gates) and
 * where the findings are read. Both read ECR through the same adapter; only the ECRClient differs
 * (AWS in Lambda, the sandbox's ECR stand-in locally), so the platform passes it in.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { ecrScanFindings } from '../adapters/aws/ecr-scan-findings.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import type { Reporter } from '../ports/reporter.js';
import type { ScanGateDeps } from '../steps/scan-gate/check-scan.js';
import { ecrClient } from './ecr.js';
import { lambdaReporter } from './lambda.js';

/** What differs between Lambda and a local run. */
export interface ScanGatePlatform {
  readonly config: Config;
  /** ECR: the function's account and region in AWS, or a stand-in's endpoint. */
  readonly ecr: ECRClient;
  readonly reporter: Reporter;
  /** @default the system clock */
  readonly now?: () => Date;
}

export function scanGateDeps(platform: ScanGatePlatform): ScanGateDeps {
  return {
    config: platform.config,
    findings: ecrScanFindings(platform.ecr),
    reporter: platform.reporter,
    now: platform.now ?? (() => new Date()),
  };
}

/** Lambda: the config from SHIPLANE_CONFIG (no tag patterns read, so no RE2), ECR in the function's account. */
export function deployedScanGate(env: NodeJS.ProcessEnv = process.env): () => ScanGateDeps {
  let deployed: ScanGateDeps | undefined;
  return () => {
    deployed ??= scanGateDeps({
      config: runtimeConfig(parseConfigShape, env),
      ecr: ecrClient(),
      reporter: lambdaReporter(),
    });
    return deployed;
  };
}
