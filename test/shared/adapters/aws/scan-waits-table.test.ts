/** The scan waits adapter against a local DynamoDB (dynalite): its conditional writes decide, as in AWS. */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoScanWaits, scanWaitKey } from '../../../../shared/adapters/aws/scan-waits-table.js';
import { DIGEST, REPOSITORY } from '../../../fixtures/ecr/scan-findings.js';
import { useLocalScanWaitsTable } from '../../../support/local-dynamo.js';

const table = useLocalScanWaitsTable();
const image = { repository: REPOSITORY, digest: DIGEST };
const later = new Date('2026-11-26T15:00:00Z');

describe('dynamoScanWaits', () => {
  it('records a wait per run under the image, the newest token replacing the one before', async () => {
    const waits = dynamoScanWaits(table.client, table.tableName);
    await waits.add(image, { execution: 'backend-v1-4-2-4f2c9d1e8a7b', token: 'token-1' }, later);
    await waits.add(image, { execution: 'backend-v1-4-2-rc1-4f2c9d1e8a7b', token: 'token-2' }, later);
    await waits.add(image, { execution: 'backend-v1-4-2-4f2c9d1e8a7b', token: 'token-3' }, later);

    expect([...(await waits.waiting(image))].sort((a, b) => a.execution.localeCompare(b.execution))).toEqual([
      { execution: 'backend-v1-4-2-4f2c9d1e8a7b', token: 'token-3' },
      { execution: 'backend-v1-4-2-rc1-4f2c9d1e8a7b', token: 'token-2' },
    ]);
    const item = await table.client.send(
      new GetItemCommand({ TableName: table.tableName, Key: { image: { S: scanWaitKey(image) } } }),
    );
    expect(item.Item?.expiresAt).toEqual({ N: String(later.getTime() / 1000) });
    expect(item.Item?.image).toEqual({ S: `${REPOSITORY}@${DIGEST}` });
  });

  it('knows no waiter for an image nobody waits for, or another digest of the repository', async () => {
    const waits = dynamoScanWaits(table.client, table.tableName);
    await waits.add(image, { execution: 'backend-v1-4-2-4f2c9d1e8a7b', token: 'token-1' }, later);
    expect(await waits.waiting({ repository: REPOSITORY, digest: `sha256:${'0'.repeat(64)}` })).toEqual([]);
    expect(await waits.waiting({ repository: 'itdo-erp/frontend', digest: DIGEST })).toEqual([]);
  });

  it('forgets a token only while it is the recorded one: a newer wait of the run stays', async () => {
    const waits = dynamoScanWaits(table.client, table.tableName);
    const execution = 'backend-v1-4-2-4f2c9d1e8a7b';
    await waits.add(image, { execution, token: 'token-1' }, later);
    await waits.add(image, { execution, token: 'token-2' }, later);

    await waits.remove(image, { execution, token: 'token-1' });
    expect(await waits.waiting(image)).toEqual([{ execution, token: 'token-2' }]);

    await waits.remove(image, { execution, token: 'token-2' });
    expect(await waits.waiting(image)).toEqual([]);
    // Removing again, or from an image without an item, is no error.
    await waits.remove(image, { execution, token: 'token-2' });
    await waits.remove({ repository: 'itdo-erp/frontend', digest: DIGEST }, { execution, token: 'x' });
  });
});
