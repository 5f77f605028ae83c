/**
 * Answers a run that waits on a task token. In AWS this is SendTaskSuccess / SendTaskFailure; the local
 * engine passes its own implementation, so handlers never know which one they talk to.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';

export interface TaskTokens {
  succeed(token: string, output: unknown): Promise<void>;
  /** `error` is the name the state machine's Catch/Retry matches; `cause` says what to fix. */
  fail(token: string, error: string, cause: string): Promise<void>;
}

/** Step Functions limits: error ≤ 256 characters, cause ≤ 32768. */
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export function stepFunctionsTaskTokens(client: SFNClient): TaskTokens {
  return {
    async succeed(token, output) {
      await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    },
    async fail(token, error, cause) {
      await client.send(
        new SendTaskFailureCommand({ taskToken: token, error: clip(error, 256), cause: clip(cause, 32_768) }),
      );
    },
  };
}
