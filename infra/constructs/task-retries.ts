/**
 * The retry policy of every task in the promotion state machine, written once. A task names the
 * policy it follows; the numbers live here, so the promotion path, the manual rollback path and the
 * automatic rollback cannot drift apart.
 */
import { Duration } from 'aws-cdk-lib';
import type { RetryProps } from 'aws-cdk-lib/aws-stepfunctions';

/** Lambda errors worth a retry: the service or the SDK hiccuped, the function never ran to an answer. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** How long a run waits for the committer's answer before sending the commit request again. */
export const COMMIT_TIMEOUT_SECONDS = 900;

/**
 * - `lambdaTask`: a Lambda task whose answer the run needs (the Argo CD check, the approval request);
 * - `notify`: a notification, which never fails a run, so it gives up sooner;
 * - `pullRequest`: the pull-request task, which also retries a GitHub that did not answer;
 * - `commitMessage`: the commit request on the FIFO queue; `States.Timeout` (no answer within
 *   COMMIT_TIMEOUT_SECONDS) sends it again (a change already written comes back `unchanged`).
 */
export const TASK_RETRIES = {
  lambdaTask: {
    errors: LAMBDA_TRANSIENT_ERRORS,
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 4,
  },
  notify: { errors: LAMBDA_TRANSIENT_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 2 },
  /** The pull-request task: also GitHub outages the client's own retries did not outlast. */
  pullRequest: {
    errors: [...LAMBDA_TRANSIENT_ERRORS, 'GitHubUnavailableError'],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 4,
  },
  commitMessage: {
    errors: ['States.Timeout', 'SQS.SdkClientException', 'SQS.AmazonSQSException'],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 3,
  },
} satisfies Record<string, RetryProps>;
