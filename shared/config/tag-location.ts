/**
 * Where one app's tag lives in one stage: which repository, branch and file, and — in a Helm values
 * file — at which key paths. The one answer every reader uses: the state machine (the commit's target
 * and its commit-queue message group), the committer (what it may write), argocd-health (which source
 * of an Argo CD app is ours and which file it checks), the release thread's commit links and secret
 * sync. Nobody works it out on their own.
 *
 * The layers, the nearest first: `apps.<app>.stages.<stage>` → the stage (`stages[].repository`,
 * `branch`, `file`, `valuesPath`, `digestPath`) → `gitops.repository` / `gitops.branch`.
 *
 * Structural types, not the schema's `Config`: the schema checks configs with these functions, and a
 * module the schema imports must not import the schema back.
 */
import { posix } from 'node:path';

export interface TagLocationOverride {
  readonly repository?: string | undefined;
  readonly branch?: string | undefined;
  readonly file?: string | undefined;
  readonly valuesPath?: string | undefined;
  readonly digestPath?: string | undefined;
}

/** The parts of a config the resolver reads (a validated `Config` is one). */
export interface TagLocationConfig {
  readonly gitops: { readonly repository: string; readonly branch: string };
  readonly apps: Readonly<
    Record<string, { readonly stages?: Readonly<Record<string, TagLocationOverride>> | undefined }>
  >;
  readonly stages: ReadonlyArray<
    TagLocationOverride & {
      readonly name: string;
      readonly file: string;
      readonly pinDigest: boolean;
      readonly createIfMissing: boolean;
    }
  >;
  readonly secrets?: ReadonlyArray<{
    readonly file: string;
    readonly repository?: string | undefined;
    readonly branch?: string | undefined;
  }>;
}

/** A repository and one of its branches: one writer (one commit-queue message group) each. */
export interface RepositoryBranch {
  readonly repository: string;
  readonly branch: string;
}

export interface TagLocation extends RepositoryBranch {
  readonly file: string;
  /** Helm values key paths (`{app}` stands for the app's name); absent for a kustomization. */
  readonly valuesPath?: string;
  readonly digestPath?: string;
  /** The stage's setting: whether the digest is written with the tag. */
  readonly pinDigest: boolean;
  readonly createIfMissing: boolean;
}

/** An unknown stage or app: a caller asked about something the config does not have. */
export class UnknownTagLocationError extends Error {
  override name = 'UnknownTagLocationError';
}

/** The commit-queue message group of a repository's branch: one writer per branch. */
export function messageGroupOf(target: RepositoryBranch): string {
  return `${target.repository}#${target.branch}`;
}

/** Where a stage writes when no app says otherwise (its repository and branch, or the gitops ones). */
export function stageRepository(config: TagLocationConfig, stageName: string): RepositoryBranch {
  const stage = findStage(config, stageName);
  return {
    repository: stage.repository ?? config.gitops.repository,
    branch: stage.branch ?? config.gitops.branch,
  };
}

/** Where the stage's own settings put a tag (no app override). */
export function stageTagLocation(config: TagLocationConfig, stageName: string): TagLocation {
  return resolve(config, findStage(config, stageName), undefined);
}

/** Where app `app`'s tag lives in stage `stageName`. Throws UnknownTagLocationError for either unknown. */
export function tagLocation(config: TagLocationConfig, app: string, stageName: string): TagLocation {
  const stage = findStage(config, stageName);
  const entry = Object.hasOwn(config.apps, app) ? config.apps[app] : undefined;
  if (!entry) throw new UnknownTagLocationError(`no app named ${app} in the config`);
  const override =
    entry.stages && Object.hasOwn(entry.stages, stageName) ? entry.stages[stageName] : undefined;
  return resolve(config, stage, override);
}

/**
 * The distinct places a stage's tags live, each with the apps whose tag lives there (config order),
 * the stage's own location first. One entry when no app overrides the stage.
 */
export function stageTagLocations(
  config: TagLocationConfig,
  stageName: string,
): Array<{ readonly location: TagLocation; readonly apps: string[] }> {
  const own = stageTagLocation(config, stageName);
  const found = new Map<string, { location: TagLocation; apps: string[] }>([
    [locationKey(own), { location: own, apps: [] }],
  ]);
  for (const app of Object.keys(config.apps)) {
    const location = tagLocation(config, app, stageName);
    const key = locationKey(location);
    const entry = found.get(key) ?? { location, apps: [] };
    entry.apps.push(app);
    found.set(key, entry);
  }
  // The stage's own location stays listed only when some app uses it (or no app overrides at all).
  return [...found.values()].filter((entry, index) => index > 0 || entry.apps.length > 0 || found.size === 1);
}

/** Whether two locations write the same thing to the same place (what the commit request carries). */
export function sameTagLocation(a: TagLocation, b: TagLocation): boolean {
  return locationKey(a) === locationKey(b);
}

/** Every repository the config writes to or reads from, with its branches and what uses each. */
export function configRepositories(
  config: TagLocationConfig,
): Array<{ readonly repository: string; readonly branches: Array<{ branch: string; uses: string[] }> }> {
  const repositories = new Map<string, Map<string, string[]>>();
  const use = (target: RepositoryBranch, what: string) => {
    const branches = repositories.get(target.repository) ?? new Map<string, string[]>();
    const uses = branches.get(target.branch) ?? [];
    if (!uses.includes(what)) uses.push(what);
    branches.set(target.branch, uses);
    repositories.set(target.repository, branches);
  };
  for (const stage of config.stages) {
    for (const { location, apps } of stageTagLocations(config, stage.name)) {
      use(location, `stage ${stage.name}${apps.length > 0 ? ` (${apps.join(', ')})` : ''}`);
    }
  }
  for (const selection of config.secrets ?? [])
    use(secretsTarget(config, selection), `secrets ${selection.file}`);
  return [...repositories].map(([repository, branches]) => ({
    repository,
    branches: [...branches].map(([branch, uses]) => ({ branch, uses })),
  }));
}

/** Where a `secrets[]` entry's file is written: its own repository and branch, or the gitops ones. */
export function secretsTarget(
  config: Pick<TagLocationConfig, 'gitops'>,
  selection: { readonly repository?: string | undefined; readonly branch?: string | undefined },
): RepositoryBranch {
  return {
    repository: selection.repository ?? config.gitops.repository,
    branch: selection.branch ?? config.gitops.branch,
  };
}

const KUSTOMIZATION = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

/** Whether a file is a kustomization (by its name, as kustomize finds it), not a Helm values file. */
export function isKustomizationFile(file: string): boolean {
  return KUSTOMIZATION.has(posix.basename(file));
}

/**
 * What is wrong with the config's tag locations, each with the key to fix: app overrides naming a
 * stage the config lacks, Helm key paths on a kustomization (or a values file without them), and one
 * repository spelled two ways (two spellings would be two commit-queue groups writing one branch).
 */
export function tagLocationProblems(
  config: TagLocationConfig,
): Array<{ readonly path: PropertyKey[]; readonly message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  const stageNames = config.stages.map((stage) => stage.name);
  for (const [app, entry] of Object.entries(config.apps)) {
    for (const [stageName, override] of Object.entries(entry.stages ?? {})) {
      const path = ['apps', app, 'stages', stageName];
      const stage = config.stages.find((candidate) => candidate.name === stageName);
      if (!stage) {
        problems.push({
          path,
          message: `no stage named ${stageName} (the stages are ${stageNames.join(', ')})`,
        });
        continue;
      }
      const location = resolve(config, stage, override);
      if (location.valuesPath !== undefined && isKustomizationFile(location.file)) {
        problems.push({
          path: [...path, override.valuesPath !== undefined ? 'valuesPath' : 'file'],
          message: `valuesPath needs a Helm values file, but ${app}'s file in ${stageName} is the kustomization ${location.file}; set file to the values file`,
        });
      } else if (location.valuesPath === undefined && !isKustomizationFile(location.file)) {
        problems.push({
          path: [...path, 'valuesPath'],
          message: `${location.file} is not a kustomization.yaml: a Helm values file needs valuesPath (the key path of the tag, e.g. image.tag)`,
        });
      }
      if (location.digestPath !== undefined && location.valuesPath === undefined) {
        problems.push({ path: [...path, 'digestPath'], message: 'needs valuesPath' });
      }
      if (location.valuesPath !== undefined && location.digestPath === undefined && location.pinDigest) {
        problems.push({
          path: [...path, 'digestPath'],
          message: `${app}'s tag lives in Helm values in ${stageName}, which pins digests: set digestPath (e.g. image.digest) so the approved digest is written, or the stage's pinDigest: false`,
        });
      }
    }
  }
  const spellings = new Map<string, string>();
  for (const { repository } of configRepositories(config)) {
    const key = repository.toLowerCase();
    const other = spellings.get(key);
    if (other !== undefined && other !== repository) {
      problems.push({
        path: ['gitops', 'repository'],
        message: `${repository} and ${other} name one repository; spell it the same everywhere (each spelling would be its own writer to its branches)`,
      });
    }
    spellings.set(key, other ?? repository);
  }
  return problems;
}

function findStage(config: TagLocationConfig, stageName: string): TagLocationConfig['stages'][number] {
  const stage = config.stages.find((candidate) => candidate.name === stageName);
  if (!stage) throw new UnknownTagLocationError(`no stage named ${stageName} in the config`);
  return stage;
}

function resolve(
  config: TagLocationConfig,
  stage: TagLocationConfig['stages'][number],
  override: TagLocationOverride | undefined,
): TagLocation {
  const valuesPath = override?.valuesPath ?? stage.valuesPath;
  const digestPath = override?.digestPath ?? stage.digestPath;
  return {
    repository: override?.repository ?? stage.repository ?? config.gitops.repository,
    branch: override?.branch ?? stage.branch ?? config.gitops.branch,
    file: override?.file ?? stage.file,
    ...(valuesPath !== undefined ? { valuesPath } : {}),
    ...(digestPath !== undefined ? { digestPath } : {}),
    pinDigest: stage.pinDigest,
    createIfMissing: stage.createIfMissing,
  };
}

function locationKey(location: TagLocation): string {
  return JSON.stringify([
    location.repository,
    location.branch,
    location.file,
    location.valuesPath ?? null,
    location.digestPath ?? null,
    location.pinDigest,
    location.createIfMissing,
  ]);
}
