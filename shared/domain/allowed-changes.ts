/**
 * What the committer may write: for an image change, exactly where config/tag-location.ts puts the
 * app's tag in the stage (repository, branch, file and Helm key paths); for a whole-file write, a file
 * a `secrets[]` entry names, in that entry's repository and branch. The queue's senders (the state
 * machine and secret sync) build their requests from the same config, so anything else on the queue
 * did not come from them; refusing it keeps the committer's GitHub credentials from writing any other
 * path (a new workload manifest, a CI workflow) for whoever can send to the queue. A secrets file's
 * content must be what secret sync renders (see external-secrets-file.ts): ExternalSecrets only.
 *
 * A run started before its app's tag moved (the config changed while it ran) still sends the old
 * place; it is refused here, naming where the config puts the tag now.
 */
import {
  messageGroupOf,
  secretsTarget,
  type TagLocationConfig,
  tagLocation,
  UnknownTagLocationError,
} from '../config/tag-location.js';
import type { CommitRequest, ImageChange } from '../contracts/tasks.js';
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
export interface ChangeTargets extends TagLocationConfig {
  readonly secrets: ReadonlyArray<{
    readonly file: string;
    readonly repository?: string | undefined;
    readonly branch?: string | undefined;
    readonly secretStore?: SecretStoreTarget;
  }>;
}

/** Builds the check from the config the functions were deployed with. */
export function configuredChanges(config: ChangeTargets): AcceptChange {
  // The stores each secrets file may reference, per repository and branch: those of the selections that write it.
  const secretFiles = new Map<string, SecretStoreTarget[]>();
  for (const selection of config.secrets) {
    const key = secretsKey(messageGroupOf(secretsTarget(config, selection)), comparable(selection.file));
    const stores = secretFiles.get(key) ?? [];
    if (selection.secretStore) stores.push(selection.secretStore);
    secretFiles.set(key, stores);
  }
  return (request) => {
    const { change } = request;
    const where = `${request.repository}@${request.branch}`;
    if (change.kind === 'image') return imageChangeRefusal(config, where, change);
    const file = comparable(change.file);
    const stores = secretFiles.get(secretsKey(messageGroupOf(request), file));
    if (!stores) return `${change.file} in ${where} is not a file the config's secrets name`;
    return change.content === null ? undefined : refuseSecretsFile(change.file, change.content, stores);
  };
}

const secretsKey = (group: string, file: string) => `${group}\0${file}`;

/** Why an image change is not where the config puts the app's tag in the stage; undefined when it is. */
function imageChangeRefusal(config: ChangeTargets, where: string, change: ImageChange): string | undefined {
  const { app } = change.release;
  let expected: ReturnType<typeof tagLocation>;
  try {
    expected = tagLocation(config, app, change.stage);
  } catch (error) {
    if (error instanceof UnknownTagLocationError) return `${error.message}; nothing is written for it`;
    throw error;
  }
  const expectedWhere = `${expected.repository}@${expected.branch}`;
  if (where !== expectedWhere) {
    return `${where} is not where the config puts ${app}'s tag in stage ${change.stage} (${expectedWhere})`;
  }
  if (comparable(change.file) !== comparable(expected.file)) {
    return `${change.file} is not the file of stage ${change.stage} in the config (${expected.file}${expected.file === config.stages.find((stage) => stage.name === change.stage)?.file ? '' : ` for ${app}`})`;
  }
  if (change.valuesPath !== expected.valuesPath || change.digestPath !== expected.digestPath) {
    return `the Helm key paths of ${change.file} (${change.valuesPath ?? 'none'}, ${change.digestPath ?? 'none'}) are not the config's for ${app} in stage ${change.stage} (${expected.valuesPath ?? 'none'}, ${expected.digestPath ?? 'none'})`;
  }
  return undefined;
}
