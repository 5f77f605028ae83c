/**
 * What the CLI prints and exits with when a command fails: one line on stderr that says what to do,
 * and an exit code a script can tell apart. Every command reports its failures through `failure()`,
 * so an AWS SDK error reads the same whichever command met it.
 *
 * The AWS SDK v3 errors are recognised by their `name` (the service's error code), the way the SDK
 * sets it: service errors carry `$metadata`, client-side ones (no region, no credentials) do not.
 */
import { TerminalError } from '../shared/errors.js';

/** Exit codes every command shares; the README lists them. 0-2 keep their meaning per command. */
export const EXIT = {
  ok: 0,
  /** The command ran and refused, found nothing, or what it asked failed (per command). */
  failed: 1,
  /** A bad argument, config or event; nothing was called. */
  usage: 2,
  /** No AWS region configured. */
  noRegion: 3,
  /** No usable AWS credentials (none found, or AWS does not know them). */
  noCredentials: 4,
  /** AWS credentials (or the SSO session) expired. */
  expiredCredentials: 5,
  /** AWS answered access denied. */
  accessDenied: 6,
  /** The state machine or approvals table named (or found) does not exist. */
  notFound: 7,
} as const;

const SETUP_CODES: ReadonlySet<number> = new Set([
  EXIT.noRegion,
  EXIT.noCredentials,
  EXIT.expiredCredentials,
  EXIT.accessDenied,
]);

export interface Failure {
  /** One line, without the `shiplane <command>:` prefix. */
  readonly message: string;
  readonly code: number;
}

export interface FailureContext {
  /** The region given with --region, if any (said in not-found messages). */
  readonly region?: string | undefined;
  /** The approvals table given with --table, if any. */
  readonly table?: string | undefined;
  /** Where AWS_PROFILE is read. @default process.env */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

const STACK_OUTPUTS = 'aws cloudformation describe-stacks --stack-name Shiplane --query "Stacks[0].Outputs"';

/** Service error codes for an expired session token (JSON protocols, then STS's query protocol). */
const EXPIRED = new Set(['ExpiredTokenException', 'ExpiredToken', 'RequestExpired']);
/** Credentials AWS does not accept: unknown key, bad signature. */
const UNRECOGNISED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
]);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** `aws sso login`, with the profile the environment names. */
function ssoLogin(env: NodeJS.ProcessEnv): string {
  return env.AWS_PROFILE ? `aws sso login --profile ${env.AWS_PROFILE}` : 'aws sso login';
}

/** The first line of a message, trimmed: AWS messages sometimes carry more. */
const firstLine = (text: string) => (text.split('\n')[0] ?? '').trim();

/**
 * "User: arn:… is not authorized to perform: states:ListExecutions on resource: arn:… because …":
 * who, which action, on what (the parts AWS puts in an AccessDenied message).
 */
export function deniedParts(message: string): { who?: string; action?: string; resource?: string } {
  const who = /User: (\S+)/.exec(message)?.[1];
  const action = /perform: (\S+)/.exec(message)?.[1];
  const resource = /on resource: (\S+)/.exec(message)?.[1];
  return {
    ...(who ? { who } : {}),
    ...(action ? { action } : {}),
    ...(resource ? { resource: resource.replace(/[.,;]$/, '') } : {}),
  };
}

/**
 * What an AWS SDK error means for someone at a terminal; undefined when it is not one. An error that
 * wraps one (`cause`, e.g. a secret that could not be read) is reported as the AWS error it wraps
 * when that one says more plainly what to do (region, credentials, access).
 */
export function awsFailure(error: unknown, context: FailureContext = {}): Failure | undefined {
  const known = knownAwsFailure(error, context);
  if (known) return known;
  const cause = error instanceof Error ? error.cause : undefined;
  // Only what the caller must fix in their own setup: a wrapper's message says more about the rest.
  const wrapped = cause === undefined ? undefined : knownAwsFailure(cause, context);
  if (wrapped && SETUP_CODES.has(wrapped.code)) return wrapped;
  // Any other error AWS answered with: its code and message, not a stack trace.
  if (error instanceof Error && isObject((error as { $metadata?: unknown }).$metadata)) {
    return { code: EXIT.failed, message: `AWS answered ${error.name}: ${firstLine(error.message)}` };
  }
  return undefined;
}

/** The errors named above, each with what to do. */
function knownAwsFailure(error: unknown, context: FailureContext): Failure | undefined {
  if (!(error instanceof Error)) return undefined;
  const env = context.env ?? process.env;
  const { name, message } = error;
  const where = context.region ? ` in ${context.region}` : '';

  // Thrown by the SDK's region resolver before any request (plain Error, no code).
  if (message === 'Region is missing') {
    return { code: EXIT.noRegion, message: 'no AWS region: set AWS_REGION or pass --region' };
  }
  if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
    // The SSO provider says "The SSO session associated with this profile has expired" (or "is invalid").
    if (/expired|SSO session .*invalid/i.test(message)) {
      return {
        code: EXIT.expiredCredentials,
        message: `your AWS SSO session has expired: run \`${ssoLogin(env)}\` and try again`,
      };
    }
    return {
      code: EXIT.noCredentials,
      message: `no AWS credentials found: run \`${ssoLogin(env)}\` (or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
    };
  }
  if (EXPIRED.has(name)) {
    return {
      code: EXIT.expiredCredentials,
      message: `your AWS credentials have expired (${name}): run \`${ssoLogin(env)}\` (or refresh them) and try again`,
    };
  }
  if (UNRECOGNISED.has(name)) {
    return {
      code: EXIT.noCredentials,
      message: `AWS does not accept these credentials (${name}: ${firstLine(message)}): run \`${ssoLogin(env)}\` or check AWS_PROFILE`,
    };
  }
  if (DENIED.has(name)) {
    const { who, action, resource } = deniedParts(message);
    if (action) {
      return {
        code: EXIT.accessDenied,
        message: `access denied: ${who ?? 'your identity'} may not ${action}${resource ? ` on ${resource}` : ''}; ask for that permission or use a role that has it`,
      };
    }
    return { code: EXIT.accessDenied, message: `access denied (${name}): ${firstLine(message)}` };
  }
  if (name === 'StateMachineDoesNotExist') {
    const arn = /arn:[\w-]+:states:[^'"\s]+/.exec(message)?.[0];
    return {
      code: EXIT.notFound,
      message: `no state machine ${arn ?? ''}${where}`
        .replace(/ +$/, '')
        .concat(
          `: pass --state-machine with the stack output StateMachineArn (${STACK_OUTPUTS}), or --region if it is in another region`,
        ),
    };
  }
  if (name === 'StateMachineNotFoundError') {
    return {
      code: EXIT.notFound,
      message: `${message} (the stack output StateMachineArn: ${STACK_OUTPUTS})`,
    };
  }
  if (name === 'StackTableNotFoundError') {
    const { stackOutput } = error as { stackOutput?: string };
    return {
      code: EXIT.notFound,
      message: `${message}: the stack output ${stackOutput ?? 'of the table'} names it (${STACK_OUTPUTS}), or pass --region if it is in another region`,
    };
  }
  if (name === 'ResourceNotFoundException') {
    // DynamoDB says "Requested resource not found" (with the table name in newer messages).
    return {
      code: EXIT.notFound,
      message: `no approvals table${context.table ? ` ${context.table}` : ''}${where}: pass --table with the stack output ApprovalsTableName (${STACK_OUTPUTS}), or --region if it is in another region`,
    };
  }
  if (name === 'ExecutionDoesNotExist') {
    const arn = /arn:[\w-]+:states:[^'"\s]+/.exec(message)?.[0];
    return {
      code: EXIT.failed,
      message: `no execution ${arn ?? ''}`.trimEnd().concat(': list the runs with `shiplane runs`'),
    };
  }
  if (name === 'InvalidArn') {
    return { code: EXIT.usage, message: `not an ARN Step Functions accepts: ${firstLine(message)}` };
  }
  return undefined;
}

/**
 * The line and exit code for any error a command meets: AWS errors as above, a TerminalError by its
 * message (it says what to fix), anything else by its message. `fallbackCode` is the
 * code the command uses for a failure of its own.
 */
export function failure(
  error: unknown,
  context: FailureContext = {},
  fallbackCode: number = EXIT.failed,
): Failure {
  const aws = awsFailure(error, context);
  if (aws) return aws;
  if (error instanceof TerminalError) return { code: fallbackCode, message: error.message };
  return { code: fallbackCode, message: error instanceof Error ? error.message : String(error) };
}

/** Writes the failure's one line as `shiplane <command>: …` and returns its exit code. */
export function reportFailure(
  command: string,
  error: unknown,
  err: (line: string) => void,
  context: FailureContext = {},
  fallbackCode: number = EXIT.failed,
): number {
  const { message, code } = failure(error, context, fallbackCode);
  err(`shiplane ${command}: ${message}`);
  return code;
}
