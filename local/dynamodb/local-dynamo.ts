/**
 * The approvals table (and the run records and scan waits tables) on this machine: dynalite
 * (DynamoDB's JSON API implemented in Node, kept in memory) on 127.0.0.1, with a real `DynamoDBClient` pointed at it. The sandbox, `shiplane run` and
 * the tests use it so the deployed DynamoDB adapters run unchanged: their conditional writes decide
 * racing clicks, expiry, supersession and release claims, as they do in AWS.
 *
 * TTL is not switched on: dynalite has no UpdateTimeToLive, and nothing depends on it (DynamoDB
 * deletes expired items up to days late, so every deadline is checked in a condition instead).
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { APPROVALS_PARTITION_KEY } from '../../shared/contracts/approvals-table.js';
import {
  RUN_RECORDS_END_INDEX,
  RUN_RECORDS_END_KEY,
  RUN_RECORDS_PARTITION_KEY,
  RUN_RECORDS_SORT_KEY,
} from '../../shared/contracts/run-records-table.js';
import { SCAN_WAITS_PARTITION_KEY } from '../../shared/contracts/scan-waits-table.js';

/** The table the sandbox and `shiplane run` use (in AWS the stack names it). */
export const LOCAL_APPROVALS_TABLE = 'shiplane-approvals';
/** The run records table beside it (metrics read it). */
export const LOCAL_RUN_RECORDS_TABLE = 'shiplane-run-records';

/** The scan waits table beside them (runs waiting at a scan gate). */
export const LOCAL_SCAN_WAITS_TABLE = 'shiplane-scan-waits';

/** Creates an empty scan waits table (the sandbox's at start; the tests a fresh one each). */
export async function createScanWaitsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: SCAN_WAITS_PARTITION_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: SCAN_WAITS_PARTITION_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/** Its region is only a label: dynalite serves one store whatever the request says. */
const LOCAL_REGION = 'eu-west-1';

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** A real DynamoDB client for the local endpoint (throwaway credentials). */
  readonly client: DynamoDBClient;
  /** The approvals table created at start. */
  readonly tableName: string;
  /** Creates another, empty approvals table (the tests take a fresh one per test). */
  createApprovalsTable(tableName: string): Promise<void>;
  /** The run records table created at start. */
  readonly runRecordsTable: string;
  /** Creates another, empty run records table. */
  createRunRecordsTable(tableName: string): Promise<void>;
  /** The scan waits table created at start. */
  readonly scanWaitsTable: string;
  /** Closes the client and the server; the data goes with them. */
  close(): Promise<void>;
}

/** Starts dynalite on an ephemeral port and creates the approvals and run records tables. */
export async function startLocalDynamo(
  options: { tableName?: string; runRecordsTable?: string } = {},
): Promise<LocalDynamo> {
  returnItemOnConditionFailure();
  // Tables are ACTIVE at once: dynalite's default keeps a new table CREATING for 500 ms.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const close = async () => {
    client.destroy();
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
  };
  const createApprovalsTable = async (tableName: string) => {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: APPROVALS_PARTITION_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: APPROVALS_PARTITION_KEY, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  };
  const createRunRecordsTable = async (tableName: string) => {
    const key = (name: string, type: 'HASH' | 'RANGE') => ({ AttributeName: name, KeyType: type });
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [RUN_RECORDS_PARTITION_KEY, RUN_RECORDS_SORT_KEY, RUN_RECORDS_END_KEY].map(
          (name) => ({ AttributeName: name, AttributeType: 'S' }),
        ),
        KeySchema: [key(RUN_RECORDS_PARTITION_KEY, 'HASH'), key(RUN_RECORDS_SORT_KEY, 'RANGE')],
        LocalSecondaryIndexes: [
          {
            IndexName: RUN_RECORDS_END_INDEX,
            KeySchema: [key(RUN_RECORDS_PARTITION_KEY, 'HASH'), key(RUN_RECORDS_END_KEY, 'RANGE')],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  };
  const tableName = options.tableName ?? LOCAL_APPROVALS_TABLE;
  const runRecordsTable = options.runRecordsTable ?? LOCAL_RUN_RECORDS_TABLE;
  try {
    await createApprovalsTable(tableName);
    await createRunRecordsTable(runRecordsTable);
    await createScanWaitsTable(client, LOCAL_SCAN_WAITS_TABLE);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    endpoint,
    client,
    tableName,
    createApprovalsTable,
    runRecordsTable,
    createRunRecordsTable,
    scanWaitsTable: LOCAL_SCAN_WAITS_TABLE,
    close,
  };
}

type CheckConditional = (data: Record<string, unknown>, existingItem: unknown) => unknown;
let conditionFailuresCarryItem = false;

/** The write operations that take `ReturnValuesOnConditionCheckFailure` in DynamoDB. */
const CONDITIONAL_WRITES = ['putItem', 'updateItem', 'deleteItem'] as const;

/**
 * dynalite 4 drops `ReturnValuesOnConditionCheckFailure` (architect/dynalite#182), and the release
 * claim learns from it which digest a tag was released with. Two small additions teach it: the
 * parameter joins the write operations' accepted fields (dynalite discards fields it does not know),
 * and a failed condition carries the stored item. dynalite checks a condition inside the item's
 * lock with that item in hand, so the failure returns what DynamoDB returns — not a read after the
 * fact that another writer could race. Fails loudly if dynalite's internals are not the ones known.
 */
function returnItemOnConditionFailure(): void {
  if (conditionFailuresCarryItem) return;
  const load = createRequire(import.meta.url);
  const unknownDynalite = (what: string) =>
    new Error(`${what}: this dynalite is not the 4.x the local DynamoDB was written for`);
  for (const operation of CONDITIONAL_WRITES) {
    const validation = load(`dynalite/validations/${operation}`) as { types?: Record<string, unknown> };
    if (!validation.types) throw unknownDynalite(`dynalite/validations/${operation} has no types`);
    validation.types.ReturnValuesOnConditionCheckFailure = { type: 'String', enum: ['ALL_OLD', 'NONE'] };
  }
  const db = load('dynalite/db') as { checkConditional?: CheckConditional };
  const check = db.checkConditional;
  if (typeof check !== 'function') throw unknownDynalite('dynalite/db exports no checkConditional');
  db.checkConditional = (data, existingItem) => {
    const failure = check(data, existingItem) as { body?: Record<string, unknown> } | null | undefined;
    if (failure?.body && existingItem && data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') {
      failure.body.Item = existingItem;
    }
    return failure;
  };
  conditionFailuresCarryItem = true;
}
