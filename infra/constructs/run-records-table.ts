import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../shared/contracts/environment.js';
import {
  RUN_RECORDS_END_INDEX,
  RUN_RECORDS_END_KEY,
  RUN_RECORDS_PARTITION_KEY,
  RUN_RECORDS_SORT_KEY,
  RUN_RECORDS_TTL_ATTRIBUTE,
} from '../../shared/contracts/run-records-table.js';

/**
 * One record per run (shared/contracts/run-records-table.ts): notify writes it as the run goes and
 * seals it when the run ends; `shiplane metrics` Queries the sparse `by-end` index per app. Its own
 * table rather than the approvals table: that one has a partition key only (no Query by app and
 * time without a Scan or a new index on the table that holds task tokens), and its grants are
 * scoped by key prefix for the public Slack endpoint.
 */
export class RunRecordsTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'table', {
      partitionKey: { name: RUN_RECORDS_PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: RUN_RECORDS_SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: RUN_RECORDS_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    this.table.addLocalSecondaryIndex({
      indexName: RUN_RECORDS_END_INDEX,
      sortKey: { name: RUN_RECORDS_END_KEY, type: AttributeType.STRING },
    });
  }

  /** What notify needs: UpdateItem on the table's items (not its index), nothing else; and where the table is. */
  grantRecord(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.table.tableArn] }),
    );
    fn.addEnvironment(ENV.runRecordsTable, this.table.tableName);
  }
}
