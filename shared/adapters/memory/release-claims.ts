/**
 * Release claims in memory, with the DynamoDB adapter's rule (first digest wins): for the local
 * engine and the sandbox, which have no DynamoDB. One process is the only writer, and the check and
 * the set run without an await between them, so a claim is atomic as the conditional put is.
 */
import type { ReleaseClaimRequest, ReleaseClaims } from '../../ports/release-claims.js';

/** An in-memory claims store; `claims()` lists what is claimed (for tests and the console). */
export function memoryReleaseClaims(): ReleaseClaims & { claims(): ReleaseClaimRequest[] } {
  const claims = new Map<string, ReleaseClaimRequest>();
  return {
    claims: () => [...claims.values()].map((claim) => ({ ...claim })),
    async claim(request) {
      const key = `${request.app}#${request.tag}`;
      const existing = claims.get(key);
      if (!existing) {
        claims.set(key, { ...request });
        return { status: 'claimed' };
      }
      if (existing.digest === request.digest) return { status: 'same' };
      return { status: 'conflict', claimedDigest: existing.digest, execution: existing.execution };
    },
  };
}
