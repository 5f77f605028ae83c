/**
 * freeze-check's dependencies, for Lambda and for local runs alike: the stages' windows from the
 * config and the clock. Nothing else: the check reads no AWS service and posts nothing.
 */
import { freezeWindowsOf } from '../config/freeze.js';
import { runtimeConfig } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { parseConfigShape } from '../config/shape.js';
import type { Reporter } from '../ports/reporter.js';
import type { FreezeCheckDeps } from '../steps/freeze/check-freeze.js';
import { lambdaReporter } from './lambda.js';

/** What differs between Lambda and a local run. */
export interface FreezeCheckPlatform {
  readonly config: Config;
  readonly reporter: Reporter;
  /** @default the system clock */
  readonly now?: () => Date;
}

export function freezeCheckDeps(platform: FreezeCheckPlatform): FreezeCheckDeps {
  return {
    freezeWindows: freezeWindowsOf(platform.config),
    reporter: platform.reporter,
    now: platform.now ?? (() => new Date()),
  };
}

/** Lambda: the windows from SHIPLANE_CONFIG (checked in full, cron patterns included, at synth). */
export function deployedFreezeCheck(env: NodeJS.ProcessEnv = process.env): () => FreezeCheckDeps {
  let deployed: FreezeCheckDeps | undefined;
  return () => {
    deployed ??= freezeCheckDeps({
      config: runtimeConfig(parseConfigShape, env),
      reporter: lambdaReporter(),
    });
    return deployed;
  };
}
