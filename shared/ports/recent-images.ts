/**
 * The images a registry received lately: what the sweep (shared/steps/sweep) compares with the runs
 * the intake started. ECR in AWS (shared/adapters/aws/ecr-recent-images.ts).
 */

/** One image as the registry lists it: every tag it carries now, and when it was pushed. */
export interface PushedImage {
  /** The registry's account (ECR's registry id). */
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedAt: Date;
}

/** The tagged images of `repository` pushed at or after `since`, in any order. */
export type RecentImages = (repository: string, since: Date) => Promise<PushedImage[]>;
