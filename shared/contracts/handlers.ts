/**
 * The Lambda handlers of the stack. The name is the folder under functions/, the CDK construct id
 * and the `shiplane:handler` metadata on the synthesized function, which is how the local engine
 * finds the in-process handler for a task.
 */
export const HANDLER_NAMES = [
  'intake',
  'committer',
  'argocd-health',
  'request-approval',
  'slack-interaction',
  'notify',
  'secret-sync',
  'sweep',
  'scan-gate',
  'freeze-check',
  'pull-request',
  'scan-events',
] as const;

export type HandlerName = (typeof HANDLER_NAMES)[number];

/** CloudFormation metadata keys the local engine reads to map tasks to handlers. */
export const HANDLER_METADATA_KEY = 'shiplane:handler';
export const QUEUE_METADATA_KEY = 'shiplane:queue';
