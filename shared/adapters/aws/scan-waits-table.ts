/**
 * Runs waiting at a scan gate, in the scan waits table: one item per image, `<repository>@<digest>`,
 * with one attribute per waiting run, `run:<execution>` = the run's newest task token, and the item's
 * TTL (`expiresAt`, epoch seconds). One UpdateItem records a wait (no read, no race between two runs
 * of the same image); one consistent GetItem finds the waiters; a conditional REMOVE forgets a token
 * only while it is still the recorded one. The tokens never leave AWS, and only the scan-events
 * function may reach the table.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SCAN_WAITS_PARTITION_KEY, SCAN_WAITS_TTL_ATTRIBUTE } from '../../contracts/scan-waits-table.js';
import type { ScannedImageKey, ScanWaiter, ScanWaits } from '../../ports/scan-waits.js';

/** An image's item. */
export const scanWaitKey = (image: ScannedImageKey) => `${image.repository}@${image.digest}`;
const RUN_ATTRIBUTE_PREFIX = 'run:';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

export function dynamoScanWaits(client: DynamoDBClient, tableName: string): ScanWaits {
  const key = (image: ScannedImageKey): Record<string, AttributeValue> => ({
    [SCAN_WAITS_PARTITION_KEY]: { S: scanWaitKey(image) },
  });
  return {
    async add(image, waiter, expiresAt) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key(image),
          UpdateExpression: 'SET #run = :token, #repository = :repository, #digest = :digest, #ttl = :ttl',
          ExpressionAttributeNames: {
            '#run': `${RUN_ATTRIBUTE_PREFIX}${waiter.execution}`,
            '#repository': 'repository',
            '#digest': 'digest',
            '#ttl': SCAN_WAITS_TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':token': { S: waiter.token },
            ':repository': { S: image.repository },
            ':digest': { S: image.digest },
            ':ttl': { N: String(Math.ceil(expiresAt.getTime() / 1000)) },
          },
        }),
      );
    },
    async waiting(image) {
      const answer = await client.send(
        new GetItemCommand({ TableName: tableName, Key: key(image), ConsistentRead: true }),
      );
      return Object.entries(answer.Item ?? {}).flatMap(([name, value]) =>
        name.startsWith(RUN_ATTRIBUTE_PREFIX) && value.S
          ? [{ execution: name.slice(RUN_ATTRIBUTE_PREFIX.length), token: value.S }]
          : [],
      );
    },
    async remove(image, waiter: ScanWaiter) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(image),
            UpdateExpression: 'REMOVE #run',
            ConditionExpression: '#run = :token',
            ExpressionAttributeNames: { '#run': `${RUN_ATTRIBUTE_PREFIX}${waiter.execution}` },
            ExpressionAttributeValues: { ':token': { S: waiter.token } },
          }),
        );
      } catch (error) {
        // The run recorded a newer wait since (its next poll): that one stays for the next event.
        if (!isConditionFailure(error)) throw error;
      }
    },
  };
}
