import { describe, expect, it } from 'vitest';
import { memoryReleaseClaims } from '../../../../shared/adapters/memory/release-claims.js';

const request = (app: string, tag: string, digest: string) => ({
  app,
  tag,
  digest: `sha256:${digest.repeat(64)}`,
  execution: `${app}-${tag}-${digest.repeat(12)}`,
  at: '2026-11-26T14:00:00.000Z',
});

describe('memoryReleaseClaims', () => {
  it('keeps the first digest of a tag, as the DynamoDB claim does', async () => {
    const claims = memoryReleaseClaims();

    expect(await claims.claim(request('backend', 'v1.4.2', 'a'))).toEqual({ status: 'claimed' });
    expect(await claims.claim(request('backend', 'v1.4.2', 'a'))).toEqual({ status: 'same' });
    expect(await claims.claim(request('backend', 'v1.4.2', 'b'))).toEqual({
      status: 'conflict',
      claimedDigest: `sha256:${'a'.repeat(64)}`,
      execution: `backend-v1.4.2-${'a'.repeat(12)}`,
    });
    expect(claims.claims()).toEqual([request('backend', 'v1.4.2', 'a')]);
  });

  it('claims each app’s tags apart', async () => {
    const claims = memoryReleaseClaims();
    await claims.claim(request('backend', 'v1.4.2', 'a'));

    expect(await claims.claim(request('frontend', 'v1.4.2', 'b'))).toEqual({ status: 'claimed' });
  });
});
