/**
 * The cause a superseded commit carries (`Shiplane.Superseded`): the committer writes it, the release
 * thread reads the newer tag back out of it. One format, kept here so both sides agree.
 */

export interface SupersededFacts {
  readonly image: string;
  readonly tag: string;
  readonly stage: string;
  /** The newer tag that is already there, when known. */
  readonly newerTag: string | undefined;
  /** Why, in the committer's words (which file pins what). */
  readonly detail: string;
}

const NEWER = / was not deployed to \S+: (\S+) is already there\b/;

/** `itdo-erp/backend v2.1.6 was not deployed to production: v2.1.7 is already there. <detail>` */
export function supersededCause(facts: SupersededFacts): string {
  const newer = facts.newerTag ?? 'a newer release';
  return `${facts.image} ${facts.tag} was not deployed to ${facts.stage}: ${newer} is already there. ${facts.detail}`;
}

/** The newer tag named by a superseded cause, if the cause has one. */
export function supersededBy(cause: string): string | undefined {
  const newer = NEWER.exec(cause)?.[1];
  return newer === undefined || newer === 'a' ? undefined : newer;
}
