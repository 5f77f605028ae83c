/** The sandbox's ECR push: an image of one of its apps, delivered to the intake as the queue would. */
import { ecrPushEvent, sqsEventOf } from './ecr-push.js';
import type { LocalRuntime } from './runtime.js';
import type { PushAnswer } from './server.js';

/** The sandbox's apps and their ECR repositories. */
export const SANDBOX_APPS: Readonly<Record<string, string>> = {
  backend: 'itdo-erp/backend',
  frontend: 'itdo-erp/frontend',
};

/** Pushes `app:tag` and says what the intake made of it, in words for the console and the terminal. */
export async function pushImage(runtime: LocalRuntime, app: string, tag: string): Promise<PushAnswer> {
  const repository = Object.hasOwn(SANDBOX_APPS, app) ? SANDBOX_APPS[app] : undefined;
  if (!repository)
    return {
      result: 'ignored',
      message: `no app ${app}; the sandbox has ${Object.keys(SANDBOX_APPS).join(', ')}`,
    };
  const outcome = await runtime.deliver(sqsEventOf(ecrPushEvent({ repository, tag })));
  const pushed = `ECR push ${repository}:${tag}`;
  switch (outcome.result) {
    case 'started':
      return {
        result: 'started',
        execution: outcome.execution ?? '',
        message: `${pushed}: started ${outcome.execution}`,
      };
    case 'duplicate':
      return {
        result: 'duplicate',
        execution: outcome.execution ?? '',
        message: `${pushed}: the same image again — execution ${outcome.execution} already exists, nothing new started`,
      };
    case 'ignored':
      return {
        result: 'ignored',
        message: `${pushed}: ignored by the intake (the tag is not a release of ${app})`,
      };
    case 'refused':
      return {
        result: 'failed',
        message: `${pushed}: refused by the intake — the tag was released before with another digest; see the log`,
      };
    default:
      return { result: 'failed', message: `${pushed}: the intake failed; see the log` };
  }
}
