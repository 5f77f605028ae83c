/**
 * The sandbox's ECR push: an image of one of its apps, recorded in the ECR stand-in (which gives it
 * its digest, as a registry does) and delivered to the intake as the queue would.
 */
import { EcrError, type EcrServer } from '../stand-ins/ecr/server.js';
import { ecrPushEvent, sqsEventOf } from './ecr-push.js';
import type { LocalRuntime } from './runtime.js';
import type { PushAnswer } from './server.js';

/** The sandbox's apps and their ECR repositories. */
export const SANDBOX_APPS: Readonly<Record<string, string>> = {
  backend: 'itdo-erp/backend',
  frontend: 'itdo-erp/frontend',
};

/**
 * Pushes `app:tag` and says what the intake made of it, in words for the console and the terminal.
 * With `registry` the image is recorded there first and the event carries its digest and push time;
 * without, the event carries a digest derived from repository and tag.
 */
export async function pushImage(
  runtime: LocalRuntime,
  app: string,
  tag: string,
  registry?: Pick<EcrServer, 'push'>,
): Promise<PushAnswer> {
  const repository = Object.hasOwn(SANDBOX_APPS, app) ? SANDBOX_APPS[app] : undefined;
  if (!repository)
    return {
      result: 'ignored',
      message: `no app ${app}; the sandbox has ${Object.keys(SANDBOX_APPS).join(', ')}`,
    };
  const pushed = `ECR push ${repository}:${tag}`;
  let image: { readonly digest: string; readonly pushedAt: Date } | undefined;
  try {
    image = registry?.push({ repository, tag });
  } catch (error) {
    if (!(error instanceof EcrError)) throw error;
    return { result: 'failed', message: `${pushed}: refused by ECR — ${error.message}` };
  }
  const outcome = await runtime.deliver(
    sqsEventOf(
      ecrPushEvent({ repository, tag, ...(image ? { digest: image.digest, at: image.pushedAt } : {}) }),
    ),
  );
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
