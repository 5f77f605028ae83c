import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { SecurityGroup, Subnet } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import { toConfigInput } from '../../shared/config/runtime.js';
import type { Config, SecretRef } from '../../shared/config/schema.js';
import { ENV } from '../../shared/contracts/environment.js';
import { HANDLER_METADATA_KEY, type HandlerName } from '../../shared/contracts/handlers.js';

/** The repository root: entries, the lock file and esbuild's working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Lambda refuses a function whose variables (names and values) exceed 4 KB in total. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * What an unresolved value (an ARN, a queue URL) counts for in the environment-size check: it is
 * only known at deploy time, so it is counted as a long ARN.
 */
const UNRESOLVED_VALUE_BYTES = 256;

/** The CloudWatch namespace of every handler's Powertools metrics (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'Shiplane';

/**
 * A handler's Powertools service name (POWERTOOLS_SERVICE_NAME). Powertools adds it to every metric
 * as the `service` dimension, so a dashboard or an alarm on a handler's metrics must name it.
 */
export const powertoolsServiceName = (name: HandlerName): string => `shiplane-${name}`;

/** The runtime every handler runs on: the newest Node.js this aws-cdk-lib knows. */
export const HANDLER_RUNTIME = Runtime.NODEJS_24_X;

/** ESM bundles still meet CommonJS dependencies that call `require`; this gives them one. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __shiplaneCreateRequire } from 'node:module'; const require = __shiplaneCreateRequire(import.meta.url);";

/**
 * The parts of the AWS SDK a bundle leaves out. The SDK's default credential chain reaches them only
 * through `await import()`, and only after the environment provider found nothing — but Lambda always
 * hands a function its role's credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN). Left in, they would be ~130 KB of every bundle (the SSO, STS and sign-in clients
 * they call). Should one ever run (say AWS_PROFILE set on a function), the Lambda runtime's copy of the
 * SDK serves it. bench/cold-start fails a bundle that imports any of them statically.
 */
export const LAZY_CREDENTIAL_PROVIDERS: readonly string[] = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
];

/**
 * Left out for the same reason: the SDK reaches its event-stream support only through `await import()`,
 * for operations that stream events (S3 SelectObjectContent, Bedrock, Transcribe); none of the clients
 * Shiplane uses has one. Carried, it was ~20 KB of every bundle (its codec and checksums).
 */
export const LAZY_SDK_SUBMODULES: readonly string[] = ['@smithy/core/event-streams'];

/**
 * Packages bundled from another build than the one Node's `exports` condition picks. `yaml` gives Node
 * its CommonJS build, which esbuild cannot tree-shake; its ESM build (published for browsers, plain
 * ES2020 that Node runs as is) is the same code, and a bundle keeps only what it uses (secret-sync's
 * 112 KB of yaml become 48 KB). The one difference: a YAML 1.1 `!!binary` value reads as a Uint8Array,
 * not a Buffer; Shiplane reads no binary values. Paths are resolved from the project root.
 */
export const HANDLER_ALIASES: Readonly<Record<string, string>> = {
  yaml: './node_modules/yaml/browser/index.js',
};

/**
 * How every handler is bundled. The AWS SDK travels in the bundle (the versions in package-lock.json,
 * the ones the tests ran against) instead of coming from the Lambda runtime, NodejsFunction's default:
 * tree-shaken and minified it loads about twice as fast as the runtime's copy (figures in
 * bench/results/cold-start.json). bench/cold-start builds with exactly these options
 * (handlerEsbuildOptions).
 */
export const HANDLER_BUNDLING = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  externalModules: [...LAZY_CREDENTIAL_PROVIDERS, ...LAZY_SDK_SUBMODULES],
  // NodejsFunction passes these on to esbuild as `--alias:yaml=…`. The third-party license notices
  // go to index.mjs.LEGAL.txt beside the bundle, in the same asset, instead of its last 2 KB.
  esbuildArgs: {
    '--alias': Object.entries(HANDLER_ALIASES).map(([name, path]) => `${name}=${path}`),
    '--legal-comments': 'external',
  },
} as const satisfies BundlingOptions;

/** The esbuild target NodejsFunction derives from the runtime (`nodejs24.x` → `node24`). */
export const HANDLER_ESBUILD_TARGET = `node${/^nodejs(\d+)/.exec(HANDLER_RUNTIME.name)?.[1] ?? ''}`;

/**
 * The esbuild options NodejsFunction runs for `functions/<name>/handler.ts` with HANDLER_BUNDLING (its
 * CLI flags, as esbuild's JS API spells them), so a bench builds the very bundle that is deployed.
 * `external` replaces HANDLER_BUNDLING's list, to measure an alternative.
 */
export function handlerEsbuildOptions(
  name: string,
  outfile: string,
  external: readonly string[] = HANDLER_BUNDLING.externalModules,
): BuildOptions {
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [`functions/${name}/handler.ts`],
    bundle: true,
    outfile,
    target: HANDLER_ESBUILD_TARGET,
    platform: 'node',
    format: HANDLER_BUNDLING.format,
    minify: HANDLER_BUNDLING.minify,
    sourcemap: HANDLER_BUNDLING.sourceMap,
    sourcesContent: HANDLER_BUNDLING.sourcesContent,
    external: [...external],
    banner: { js: HANDLER_BUNDLING.banner },
    mainFields: [...HANDLER_BUNDLING.mainFields],
    alias: { ...HANDLER_ALIASES },
    legalComments: HANDLER_BUNDLING.esbuildArgs['--legal-comments'],
  };
}

export interface HandlerFunctionProps {
  /** The handler's folder under functions/; also its `shiplane:handler` metadata. */
  readonly name: HandlerName;
  /** The validated config, passed to the function as SHIPLANE_CONFIG (references only, no secrets). */
  readonly config: Config;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Extra environment variables (names and ARNs only). @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * Where failed asynchronous invocations go. Only for functions invoked asynchronously (EventBridge);
   * the others are invoked synchronously or by an SQS event source whose queue has its own DLQ.
   * @default none
   */
  readonly deadLetterQueue?: IQueue;
  /**
   * The function calls Argo CD or GitHub, which may be reachable only from a private network: it runs
   * in the config's `aws.vpc` when the config sets one. @default false
   */
  readonly callsGitOpsServers?: boolean;
}

/**
 * Every Shiplane Lambda: one esbuild ESM bundle of `functions/<name>/handler.ts` (HANDLER_BUNDLING,
 * the AWS SDK included), Node.js 24 on arm64,
 * its own log group and role (no managed policies), X-Ray active, Powertools settings, and the
 * validated config in SHIPLANE_CONFIG.
 */
export class HandlerFunction extends NodejsFunction {
  /** The handler's name (the folder under functions/). */
  readonly handlerName: HandlerName;
  /** The Powertools service name: the `service` dimension of the handler's metrics. */
  readonly serviceName: string;
  /** The execution role; grants land in its default policy. */
  readonly executionRole: Role;
  /** The customer-managed keys of the secrets the config names (`aws.secretsKmsKeyArns`). */
  private readonly secretsKeyArns: readonly string[];

  constructor(scope: Construct, props: HandlerFunctionProps) {
    const entry = `${PROJECT_ROOT}functions/${props.name}/handler.ts`;
    if (!existsSync(entry)) {
      throw new Error(
        `HandlerFunction ${props.name}: ${entry} does not exist; every handler needs functions/<name>/handler.ts`,
      );
    }
    const logGroup = new LogGroup(scope, `${props.name}-logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    const role = new Role(scope, `${props.name}-role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Shiplane ${props.name} function`,
    });
    super(scope, props.name, {
      entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: HANDLER_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      bundling: {
        ...HANDLER_BUNDLING,
        externalModules: [...HANDLER_BUNDLING.externalModules],
        esbuildArgs: {
          ...HANDLER_BUNDLING.esbuildArgs,
          '--alias': [...HANDLER_BUNDLING.esbuildArgs['--alias']],
        },
      },
      environment: {
        [ENV.config]: JSON.stringify(toConfigInput(props.config)),
        POWERTOOLS_SERVICE_NAME: powertoolsServiceName(props.name),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });
    this.handlerName = props.name;
    this.serviceName = `shiplane-${props.name}`;
    this.executionRole = role;
    this.secretsKeyArns = props.config.aws?.secretsKmsKeyArns ?? [];
    logGroup.grantWrite(role);

    const cfn = this.node.defaultChild as CfnFunction;
    cfn.addMetadata(HANDLER_METADATA_KEY, props.name);
    const vpc = props.config.aws?.vpc;
    if (props.callsGitOpsServers && vpc) this.placeInVpc(cfn, vpc);
    this.node.addValidation({ validate: () => this.checkEnvironmentSize(cfn) });

    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions' +
        (cfn.vpcConfig
          ? '; in a VPC, the network interface actions Lambda needs (ec2:CreateNetworkInterface and friends) neither.'
          : '.'),
    });
    if (!props.deadLetterQueue) {
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously (Step Functions, API Gateway) or by an SQS event source whose queue has its own DLQ; an asynchronous-invocation DLQ would never receive anything.',
      });
    }
  }

  /** Lets the function read the secret a `secret:` reference names; `env:` references need nothing. */
  grantSecretRead(...refs: ReadonlyArray<SecretRef | undefined>): void {
    const resources = refs.flatMap((ref) =>
      ref?.source === 'secret' ? [secretArnPattern(Stack.of(this), ref.name)] : [],
    );
    if (resources.length === 0) return;
    this.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources }));
    const decrypt = secretsKeyDecrypt(Stack.of(this), this.secretsKeyArns);
    if (decrypt) this.addToRolePolicy(decrypt);
  }

  /**
   * Runs the function in the given subnets with the given security groups, imported by id: no VPC
   * lookup, so synth stays offline. Lambda's `vpc` prop would need the VPC's id and zones, which the
   * subnets already imply, so the ids go straight into VpcConfig; the role gets the network interface
   * actions Lambda needs (AWSLambdaVPCAccessExecutionRole's, inline), and the function waits for them.
   */
  private placeInVpc(
    cfn: CfnFunction,
    vpc: { subnetIds: readonly string[]; securityGroupIds: readonly string[] },
  ) {
    const subnets = vpc.subnetIds.map((id) => Subnet.fromSubnetId(this, `subnet-${id}`, id));
    const groups = vpc.securityGroupIds.map((id) => SecurityGroup.fromSecurityGroupId(this, `sg-${id}`, id));
    cfn.vpcConfig = {
      subnetIds: subnets.map((subnet) => subnet.subnetId),
      securityGroupIds: groups.map((group) => group.securityGroupId),
    };
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
  }

  private checkEnvironmentSize(cfn: CfnFunction): string[] {
    const resolved = Stack.of(this).resolve(cfn.environment) as
      | { variables?: Record<string, unknown> }
      | undefined;
    let bytes = 0;
    for (const [key, value] of Object.entries(resolved?.variables ?? {})) {
      bytes += Buffer.byteLength(key);
      bytes +=
        typeof value === 'string' && !Token.isUnresolved(value)
          ? Buffer.byteLength(value)
          : UNRESOLVED_VALUE_BYTES;
    }
    if (bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return [];
    return [
      `the ${this.handlerName} function's environment is about ${bytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}. ` +
        `Most of it is ${ENV.config} (the config as JSON): shorten the config (fewer apps, stages or secret selections).`,
    ];
  }
}

/**
 * kms:Decrypt on the customer-managed keys that encrypt the config's secrets, only as Secrets Manager
 * uses them for a GetSecretValue of this account and region; undefined when the config names none.
 */
export function secretsKeyDecrypt(stack: Stack, keyArns: readonly string[]): PolicyStatement | undefined {
  if (keyArns.length === 0) return undefined;
  return new PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [...keyArns],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` } },
  });
}

/**
 * The IAM resource for a Secrets Manager name (or glob): Secrets Manager appends `-` and six random
 * characters to every secret's ARN. A reference that already is an ARN is used as given.
 */
export function secretArnPattern(stack: Stack, name: string): string {
  if (name.startsWith('arn:')) return name;
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${name}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
