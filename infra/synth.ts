/**
 * Synthesizes the Shiplane stack in-process: what the local engine, the sandbox and the tests use to
 * get the real CloudFormation template (and the state machine definition in it) without the CDK CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Config } from '../shared/config/schema.js';
import { ShiplaneStack } from './stack.js';

/** A synthesized CloudFormation template (JSON), read by the local engine and the tests. */
// biome-ignore lint/suspicious/noExplicitAny: templates are free-form JSON that callers index into.
export type CloudFormationTemplate = Record<string, any>;

/** The stack's name (and construct id) in the app. */
export const STACK_NAME = 'Shiplane';

export interface SynthOptions {
  /** Bundle every Lambda with esbuild (slow). @default false */
  readonly bundling?: boolean;
  /** Run the cdk-nag AwsSolutions and Serverless packs; a finding makes synthesis throw. @default false */
  readonly nag?: boolean;
}

/**
 * The stack's account and region, from the usual CDK environment (CDK_DEFAULT_ACCOUNT and
 * CDK_DEFAULT_REGION, which the CDK CLI sets from the profile or --profile). Without them the stack
 * is environment-agnostic: ARNs use the deploying account and region.
 */
export function stackEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  return {
    ...(env.CDK_DEFAULT_ACCOUNT ? { account: env.CDK_DEFAULT_ACCOUNT } : {}),
    ...(env.CDK_DEFAULT_REGION ? { region: env.CDK_DEFAULT_REGION } : {}),
  };
}

/** Registers the cdk-nag packs on an app, as `npm run synth` does. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}

/** Builds the app and the stack without synthesizing; for tests that need the constructs. */
export function createShiplaneApp(
  config: Config,
  options: SynthOptions = {},
): { app: App; stack: ShiplaneStack } {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'shiplane-cdk-')),
    // An empty list skips bundling for every stack: the template is the same, only the asset differs.
    context: options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new ShiplaneStack(app, STACK_NAME, { config });
  if (options.nag) addNagChecks(app);
  return { app, stack };
}

/** Synthesizes the stack for `config` and returns its CloudFormation template. */
export function synthesizeTemplate(config: Config, options: SynthOptions = {}): CloudFormationTemplate {
  const { app } = createShiplaneApp(config, options);
  const assembly = app.synth();
  try {
    return assembly.getStackByName(STACK_NAME).template as CloudFormationTemplate;
  } finally {
    rmSync(assembly.directory, { recursive: true, force: true });
  }
}
