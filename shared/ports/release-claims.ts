/**
 * Release claims: which digest a tag of an app was first released with. When some stage deploys by
 * tag alone (`pinDigest: false`), a tag pushed again with other content would reach that stage
 * unapproved; the intake claims each released tag and refuses a second digest for it.
 */

/** What the intake claims: this tag of this app is this digest, first released by this run. */
export interface ReleaseClaimRequest {
  readonly app: string;
  readonly tag: string;
  readonly digest: string;
  /** The run the claim starts, for whoever reads the refusal. */
  readonly execution: string;
  /** ISO time of the claim. */
  readonly at: string;
}

export type ReleaseClaim =
  /** First release of the tag: claimed now. */
  | { readonly status: 'claimed' }
  /** Claimed before with the same digest: a repeated event, or a retry after a failed StartExecution. */
  | { readonly status: 'same' }
  /** Claimed before with another digest: the tag was pushed again with other content. */
  | { readonly status: 'conflict'; readonly claimedDigest: string; readonly execution: string | undefined };

/** Where the intake records released tags; a claim is atomic (one conditional write). */
export interface ReleaseClaims {
  /** Records the tag's digest unless the tag has one already; says which case it was. */
  claim(request: ReleaseClaimRequest): Promise<ReleaseClaim>;
}
