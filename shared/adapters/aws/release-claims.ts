/**
 * Release claims in the approvals table: one item `release#<app>#<tag>` per released tag, holding the
 * digest it was released with. No TTL: a tag stays released. A claim is one conditional PutItem (the
 * intake may only write these items), and the existing item comes back with the condition failure,
 * so no read and no second permission are needed.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ReleaseClaims } from '../../ports/release-claims.js';

/** The key of a released tag's item; the intake's IAM policy allows only this prefix. */
export const releaseKey = (app: string, tag: string) => `release#${app}#${tag}`;
export const RELEASE_KEY_PREFIX = 'release#';

/** The SDK's class, or its name when the error comes from another copy of the SDK (bundles, mocks). */
const conditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException'
    ? (error as ConditionalCheckFailedException)
    : undefined;

const text = (value: AttributeValue | undefined) => (value && 'S' in value ? value.S : undefined);

/** The DynamoDB implementation, on the approvals table (partition key `pk`). */
export function dynamoReleaseClaims(client: DynamoDBClient, tableName: string): ReleaseClaims {
  return {
    async claim(request) {
      const pk = releaseKey(request.app, request.tag);
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              pk: { S: pk },
              kind: { S: 'release' },
              app: { S: request.app },
              tag: { S: request.tag },
              digest: { S: request.digest },
              execution: { S: request.execution },
              at: { S: request.at },
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { status: 'claimed' };
      } catch (error) {
        const failure = conditionFailure(error);
        if (!failure) throw error;
        const claimedDigest = text(failure.Item?.digest);
        if (claimedDigest === undefined) {
          throw new Error(`${pk} exists but the condition failure carried no digest`, { cause: error });
        }
        if (claimedDigest === request.digest) return { status: 'same' };
        return { status: 'conflict', claimedDigest, execution: text(failure.Item?.execution) };
      }
    },
  };
}
