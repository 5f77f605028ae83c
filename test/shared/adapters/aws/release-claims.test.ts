/**
 * Release claims against a local DynamoDB (dynalite): the first digest of a tag wins by a real
 * conditional put, and the refusal names the digest and run that hold the tag. What only the request
 * can show (one PutItem, no read) is in release-claims.requests.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { dynamoReleaseClaims } from '../../../../shared/adapters/aws/release-claims.js';
import { useLocalApprovalsTable } from '../../../support/local-dynamo.js';

const approvalsTable = useLocalApprovalsTable();

const digest = (hex: string) => `sha256:${hex.repeat(64)}`;
const request = (app: string, tag: string, hex: string) => ({
  app,
  tag,
  digest: digest(hex),
  execution: `${app}-${tag}-${hex.repeat(12)}`,
  at: '2026-11-26T14:00:00.000Z',
});

describe('dynamoReleaseClaims against a local DynamoDB', () => {
  it('claims a tag once, answers same for its digest again, and refuses another digest for it', async () => {
    const claims = approvalsTable.claims();

    expect(await claims.claim(request('backend', 'v1.4.2', '1'))).toEqual({ status: 'claimed' });
    expect(await claims.claim(request('backend', 'v1.4.2', '1'))).toEqual({ status: 'same' });
    expect(await claims.claim(request('backend', 'v1.4.2', '2'))).toEqual({
      status: 'conflict',
      claimedDigest: digest('1'),
      execution: `backend-v1.4.2-${'1'.repeat(12)}`,
    });
  });

  it('lets exactly one of two pushes of the same tag with different digests claim it', async () => {
    const claims = approvalsTable.claims();

    const answers = await Promise.all([
      claims.claim(request('backend', 'v1.4.2', 'a')),
      claims.claim(request('backend', 'v1.4.2', 'b')),
    ]);

    expect(answers.map((answer) => answer.status).sort()).toEqual(['claimed', 'conflict']);
    const winner = answers[0]?.status === 'claimed' ? 'a' : 'b';
    expect(answers.find((answer) => answer.status === 'conflict')).toMatchObject({
      claimedDigest: digest(winner),
    });
    // The tag stays with the winner's digest.
    expect(await claims.claim(request('backend', 'v1.4.2', winner))).toEqual({ status: 'same' });
  });

  it("claims each app's tags apart, next to the approvals in the same table", async () => {
    const claims = approvalsTable.claims();
    const store = approvalsTable.store();
    await claims.claim(request('backend', 'v1.4.2', 'a'));
    await store.recordDeployedTag('backend', 'production', {
      tag: 'v1.4.2',
      digest: digest('a'),
      execution: 'run',
      at: '2026-11-26T14:30:00.000Z',
    });

    expect(await claims.claim(request('frontend', 'v1.4.2', 'b'))).toEqual({ status: 'claimed' });
    expect(await claims.claim(request('backend', 'v1.4.3', 'b'))).toEqual({ status: 'claimed' });
    expect((await store.deployedTag('backend', 'production'))?.digest).toBe(digest('a'));
  });

  it('passes on any other error, so the message is retried', async () => {
    const claims = dynamoReleaseClaims(approvalsTable.client, 'no-such-table');

    await expect(claims.claim(request('backend', 'v1.4.2', '1'))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
