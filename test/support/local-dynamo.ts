/**
 * A local DynamoDB for a test file: dynalite on 127.0.0.1, started before the file's tests and
 * closed after them, with a fresh, empty approvals table for every test. The DynamoDB adapters run
 * against it unchanged, so their conditional writes — not a look-alike — decide what a test sees.
 *
 *   const approvalsTable = useLocalApprovalsTable();
 *   it('…', async () => { const store = approvalsTable.store(); … });
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import {
  createScanWaitsTable,
  type LocalDynamo,
  startLocalDynamo,
} from '../../local/dynamodb/local-dynamo.js';
import { dynamoApprovalsStore } from '../../shared/adapters/aws/approvals-table.js';
import { dynamoReleaseClaims } from '../../shared/adapters/aws/release-claims.js';
import type { ApprovalsStore } from '../../shared/ports/approvals-store.js';
import type { ReleaseClaims } from '../../shared/ports/release-claims.js';

export interface LocalApprovalsTable {
  /** A real DynamoDB client for the local endpoint. */
  readonly client: DynamoDBClient;
  /** The current test's table. */
  readonly tableName: string;
  /** The deployed approvals store on the current test's table (or on `tableName`). */
  store(tableName?: string): ApprovalsStore;
  /** The deployed release claims on the current test's table (or on `tableName`). */
  claims(tableName?: string): ReleaseClaims;
  /** Creates another empty approvals table in this test and returns its name. */
  newTable(): Promise<string>;
}

/** Registers the file's hooks; the answer is usable inside tests and their hooks. */
export function useLocalApprovalsTable(): LocalApprovalsTable {
  let dynamo: LocalDynamo | undefined;
  let current: string | undefined;
  let tables = 0;
  const running = () => {
    if (!dynamo) throw new Error('the local DynamoDB is not running: use it inside a test or hook');
    return dynamo;
  };
  const table = () => {
    if (!current) throw new Error('no approvals table yet: use it inside a test or a beforeEach hook');
    return current;
  };
  const newTable = async () => {
    tables += 1;
    const name = `approvals-${tables}`;
    await running().createApprovalsTable(name);
    return name;
  };

  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: 'approvals-0' });
  });
  beforeEach(async () => {
    current = await newTable();
  });
  afterAll(async () => {
    await dynamo?.close();
    dynamo = undefined;
  });

  return {
    get client() {
      return running().client;
    },
    get tableName() {
      return table();
    },
    store: (tableName = table()) => dynamoApprovalsStore(running().client, tableName),
    claims: (tableName = table()) => dynamoReleaseClaims(running().client, tableName),
    newTable,
  };
}

/** The same for the scan waits table: a fresh, empty table for every test of the file. */
export function useLocalScanWaitsTable(): { readonly client: DynamoDBClient; readonly tableName: string } {
  let dynamo: LocalDynamo | undefined;
  let current: string | undefined;
  let tables = 0;
  beforeAll(async () => {
    dynamo = await startLocalDynamo({ tableName: 'approvals-0' });
  });
  beforeEach(async () => {
    tables += 1;
    current = `scan-waits-${tables}`;
    if (!dynamo) throw new Error('the local DynamoDB is not running');
    await createScanWaitsTable(dynamo.client, current);
  });
  afterAll(async () => {
    await dynamo?.close();
    dynamo = undefined;
  });
  return {
    get client() {
      if (!dynamo) throw new Error('the local DynamoDB is not running: use it inside a test or hook');
      return dynamo.client;
    },
    get tableName() {
      if (!current) throw new Error('no scan waits table yet: use it inside a test or a beforeEach hook');
      return current;
    },
  };
}
