/**
 * Every AWS problem a first user meets prints one line that says what to do, with its own exit code
 * (cli/failures.ts): the SDK is mocked (aws-sdk-client-mock) to reject with errors named as the SDK
 * names them; the last tests run the real SDK in a child process with no region and no credentials.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBServiceException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  SFNServiceException,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideFromCli } from '../../cli/commands/approve.js';
import { retryExecution } from '../../cli/commands/retry.js';
import { listRuns } from '../../cli/commands/runs.js';
import { showRun } from '../../cli/commands/show.js';
import { awsFailure, deniedParts, EXIT } from '../../cli/failures.js';
import type { Io } from '../../cli/io.js';
import { runCli } from './run-cli.js';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ShiplanePromotion';
const CALLER = 'arn:aws:sts::123456789012:assumed-role/Developer/alice';

const sfnMock = mockClient(SFNClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const sfn = new SFNClient({ region: 'eu-west-1' });

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

/** A service error as the SDK builds one for an error code its model does not list. */
const serviceError = (name: string, message: string, status = 400) =>
  new SFNServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: status } });

/**
 * What @smithy's credential providers throw (CredentialsProviderError, not a dependency of ours):
 * same name and message, which is all the CLI reads.
 */
function credentialsProviderError(message: string): Error {
  const error = new Error(message);
  error.name = 'CredentialsProviderError';
  return error;
}

beforeEach(() => {
  sfnMock.reset();
  ddbMock.reset();
});

afterEach(() => {
  process.exitCode = undefined;
});

describe('shiplane runs / show against AWS errors', () => {
  it('no region: set AWS_REGION or pass --region, exit 3', async () => {
    // What the SDK's region resolver throws before any request.
    sfnMock.on(ListExecutionsCommand).rejects(new Error('Region is missing'));
    const io = capture();

    const code = await listRuns({ stateMachine: MACHINE }, io, { sfn, env: {} });

    expect(code).toBe(EXIT.noRegion);
    expect(io.errors).toEqual(['shiplane runs: no AWS region: set AWS_REGION or pass --region']);
    expect(io.lines).toEqual([]);
  });

  it('no credentials: run aws sso login, exit 4', async () => {
    sfnMock
      .on(ListExecutionsCommand)
      .rejects(credentialsProviderError('Could not load credentials from any providers'));
    const io = capture();

    const code = await listRuns({ stateMachine: MACHINE }, io, { sfn, env: {} });

    expect(code).toBe(EXIT.noCredentials);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toMatch(/^shiplane runs: no AWS credentials found: run `aws sso login`/);
  });

  it('an expired SSO session: run aws sso login with the profile, exit 5', async () => {
    sfnMock
      .on(ListStateMachinesCommand)
      .rejects(
        credentialsProviderError(
          'The SSO session associated with this profile has expired. To refresh this SSO session run aws sso login with the corresponding profile.',
        ),
      );
    const io = capture();

    const code = await listRuns({}, io, { sfn, env: {} });

    expect(code).toBe(EXIT.expiredCredentials);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toMatch(/^shiplane runs: your AWS SSO session has expired: run `aws sso login`/);
  });

  it('expired credentials (ExpiredTokenException): exit 5', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(
        serviceError('ExpiredTokenException', 'The security token included in the request is expired'),
      );
    const io = capture();

    const code = await showRun('backend-v2.1.6-4c1f5e2b8a9d', { stateMachine: MACHINE }, io, {
      sfn,
      env: {},
    });

    expect(code).toBe(EXIT.expiredCredentials);
    expect(io.errors).toEqual([
      'shiplane show: your AWS credentials have expired (ExpiredTokenException): run `aws sso login` (or refresh them) and try again',
    ]);
  });

  it('credentials AWS does not know (UnrecognizedClientException): exit 4', async () => {
    sfnMock
      .on(ListExecutionsCommand)
      .rejects(
        serviceError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
      );
    const io = capture();

    const code = await listRuns({ stateMachine: MACHINE }, io, { sfn, env: { AWS_PROFILE: 'prod' } });

    expect(code).toBe(EXIT.noCredentials);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toContain('run `aws sso login --profile prod`');
  });

  it('access denied: which identity may not call what on which ARN, exit 6', async () => {
    sfnMock
      .on(ListExecutionsCommand)
      .rejects(
        serviceError(
          'AccessDeniedException',
          `User: ${CALLER} is not authorized to perform: states:ListExecutions on resource: ${MACHINE} because no identity-based policy allows the states:ListExecutions action`,
        ),
      );
    const io = capture();

    const code = await listRuns({ stateMachine: MACHINE }, io, { sfn, env: {} });

    expect(code).toBe(EXIT.accessDenied);
    expect(io.errors).toEqual([
      `shiplane runs: access denied: ${CALLER} may not states:ListExecutions on ${MACHINE}; ask for that permission or use a role that has it`,
    ]);
  });

  it('a state machine that does not exist: the ARN and where to find the right one, exit 7', async () => {
    const wrong = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Nope';
    sfnMock
      .on(ListExecutionsCommand)
      .rejects(
        new StateMachineDoesNotExist({ message: `State Machine Does Not Exist: '${wrong}'`, $metadata: {} }),
      );
    const io = capture();

    const code = await listRuns({ stateMachine: wrong, region: 'eu-west-1' }, io, { sfn, env: {} });

    expect(code).toBe(EXIT.notFound);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toMatch(
      new RegExp(
        `^shiplane runs: no state machine ${wrong} in eu-west-1: pass --state-machine with the stack output StateMachineArn \\(aws cloudformation describe-stacks --stack-name Shiplane`,
      ),
    );
  });

  it('an execution that does not exist: exit 1 as before, one line', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    const io = capture();

    const code = await retryExecution('backend-v9-000000000000', { stateMachine: MACHINE }, io, {
      sfn,
      env: {},
    });

    // retry reads a missing run as "no such run" (its own refusal), still one line, exit 1.
    expect(code).toBe(EXIT.failed);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toMatch(/^shiplane retry: /);
  });

  it('any other AWS error: its code and message on one line, exit 1', async () => {
    sfnMock
      .on(ListExecutionsCommand)
      .rejects(serviceError('ThrottlingException', 'Rate exceeded\nsecond line', 400));
    const io = capture();

    const code = await listRuns({ stateMachine: MACHINE }, io, { sfn, env: {} });

    expect(code).toBe(EXIT.failed);
    expect(io.errors).toEqual(['shiplane runs: AWS answered ThrottlingException: Rate exceeded']);
  });
});

describe('shiplane approve / reject against AWS errors', () => {
  const options = { table: 'shiplane-approvals', stage: 'production', region: 'eu-west-1' };
  const deps = (io: Io) => ({ io, env: {} });

  it('an approvals table that does not exist: the name and where to find the right one, exit 7', async () => {
    ddbMock
      .on(GetCommand)
      .rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
    const io = capture();

    const code = await decideFromCli('approved', 'backend-v2.1.6-4c1f5e2b8a9d', options, deps(io));

    expect(code).toBe(EXIT.notFound);
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toMatch(
      /^shiplane approve: no approvals table shiplane-approvals in eu-west-1: pass --table with the stack output ApprovalsTableName/,
    );
  });

  it('access denied on the table: the action and the table ARN, exit 6', async () => {
    const table = 'arn:aws:dynamodb:eu-west-1:123456789012:table/shiplane-approvals';
    ddbMock.on(GetCommand).rejects(
      new DynamoDBServiceException({
        name: 'AccessDeniedException',
        message: `User: ${CALLER} is not authorized to perform: dynamodb:GetItem on resource: ${table} because no identity-based policy allows the dynamodb:GetItem action`,
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const io = capture();

    const code = await decideFromCli(
      'rejected',
      'backend-v2.1.6-4c1f5e2b8a9d',
      { ...options, reason: 'no' },
      deps(io),
    );

    expect(code).toBe(EXIT.accessDenied);
    expect(io.errors).toEqual([
      `shiplane reject: access denied: ${CALLER} may not dynamodb:GetItem on ${table}; ask for that permission or use a role that has it`,
    ]);
  });

  it('no region: exit 3, one line', async () => {
    ddbMock.on(GetCommand).rejects(new Error('Region is missing'));
    const io = capture();

    const code = await decideFromCli('approved', 'backend-v2.1.6-4c1f5e2b8a9d', options, deps(io));

    expect(code).toBe(EXIT.noRegion);
    expect(io.errors).toEqual(['shiplane approve: no AWS region: set AWS_REGION or pass --region']);
  });
});

describe('awsFailure', () => {
  it('reads an AWS error wrapped by another (a secret that could not be read) as the AWS error', () => {
    const wrapped = new Error('cannot read secret:shiplane/slack from Secrets Manager', {
      cause: new Error('Region is missing'),
    });
    expect(awsFailure(wrapped)?.code).toBe(EXIT.noRegion);
  });

  it('leaves errors that are not from AWS alone', () => {
    expect(awsFailure(new Error('something else'))).toBeUndefined();
    expect(awsFailure('text')).toBeUndefined();
  });

  it('reads who, what and where from an AccessDenied message', () => {
    expect(
      deniedParts(`User: ${CALLER} is not authorized to perform: sts:GetCallerIdentity on resource: *.`),
    ).toEqual({ who: CALLER, action: 'sts:GetCallerIdentity', resource: '*' });
  });
});

describe('the shiplane command with the real AWS SDK and no AWS setup', () => {
  let home: string;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'shiplane-noaws-'));
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** An environment with no AWS variable, no config or credentials file and no instance metadata. */
  function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
    return {
      ...env,
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    };
  }

  it('without a region: one line, exit 3, no stack trace', async () => {
    const result = await runCli(['runs'], { env: bareEnv() });

    expect(result.code).toBe(3);
    expect(result.stderr).toBe('shiplane runs: no AWS region: set AWS_REGION or pass --region\n');
    expect(result.stdout).toBe('');
  });

  it('with a region but no credentials: one line, exit 4', async () => {
    const result = await runCli(['show', 'backend-v2.1.6-4c1f5e2b8a9d', '--region', 'eu-west-1'], {
      env: bareEnv(),
    });

    expect(result.code).toBe(4);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^shiplane show: no AWS credentials found: run `aws sso login`/);
  });

  it('approve without a region: one line, exit 3', async () => {
    const result = await runCli(
      ['approve', 'backend-v2.1.6-4c1f5e2b8a9d', '--table', 't', '--stage', 'production'],
      {
        env: bareEnv(),
      },
    );

    expect(result.code).toBe(3);
    expect(result.stderr).toBe('shiplane approve: no AWS region: set AWS_REGION or pass --region\n');
  });
});
