/**
 * What the committer may write: the config's repository and branch, a stage's own file for an image
 * change, and a file the config's `secrets` name for a whole-file write. The queue's senders (the state
 * machine and secret sync) build their requests from the same config, so anything else on the queue
 * did not come from them; refusing it keeps the committer's GitHub credentials from writing any other
 * path (a new workload manifest, a CI workflow) for whoever can send to the queue. A secrets file's
 * content must be what secret sync renders (see external-secrets-file.ts): ExternalSecrets only.
 */
import type { CommitRequest } from '../contracts/tasks.js';
import { normalisePath } from './apply-change.js';
import { refuseSecretsFile, type SecretStoreTarget } from './external-secrets-file.js';

/** Returns why a request is refused, or undefined when the config names its target. */
export type AcceptChange = (request: CommitRequest) => string | undefined;

/** Compares paths as the committer writes them; a path it would refuse anyway is kept as given. */
function comparable(path: string): string {
  try {
    return normalisePath(path);
  } catch {
    return path;
  }
}

/** The parts of the config that name what may be written (a `Config` is one). */
export interface ChangeTargets {
  readonly gitops: { readonly repository: string; readonly branch: string };
  readonly stages: ReadonlyArray<{ readonly name: string; readonly file: string }>;
  readonly secrets: ReadonlyArray<{ readonly file: string; readonly secretStore?: SecretStoreTarget }>;
}

/** Builds the check from the config the functions were deployed with. */
export function configuredChanges(config: ChangeTargets): AcceptChange {
  const stageFiles = new Map(config.stages.map((stage) => [stage.name, comparable(stage.file)]));
  // The stores each secrets file may reference: those of the selections that write it.
  const secretFiles = new Map<string, SecretStoreTarget[]>();
  for (const selection of config.secrets) {
    const file = comparable(selection.file);
    const stores = secretFiles.get(file) ?? [];
    if (selection.secretStore) stores.push(selection.secretStore);
    secretFiles.set(file, stores);
  }
  return (request) => {
    const { gitops } = config;
    if (request.repository !== gitops.repository || request.branch !== gitops.branch) {
      return `${request.repository}@${request.branch} is not the configured GitOps branch (${gitops.repository}@${gitops.branch})`;
    }
    const { change } = request;
    const file = comparable(change.file);
    if (change.kind === 'image') {
      const expected = stageFiles.get(change.stage);
      return expected === file
        ? undefined
        : `${change.file} is not the file of stage ${change.stage} in the config${expected ? ` (${expected})` : ''}`;
    }
    const stores = secretFiles.get(file);
    if (!stores) return `${change.file} is not a file the config's secrets name`;
    return change.content === null ? undefined : refuseSecretsFile(change.file, change.content, stores);
  };
}
