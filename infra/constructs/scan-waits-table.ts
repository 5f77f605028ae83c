import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../shared/contracts/environment.js';
import {
  SCAN_WAITS_PARTITION_KEY,
  SCAN_WAITS_TTL_ATTRIBUTE,
} from '../../shared/contracts/scan-waits-table.js';

/**
 * Runs waiting at a scan gate, by image (shared/contracts/scan-waits-table.ts): the task tokens
 * scan-events records and answers. Items live an hour at most (TTL); a token itself is dead after
 * one poll interval. Its own table so that no function but scan-events can read these tokens.
 */
export class ScanWaitsTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'table', {
      partitionKey: { name: SCAN_WAITS_PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: SCAN_WAITS_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
  }

  /** What scan-events needs: one item read and conditional updates, nothing else; and where the table is. */
  grantWaits(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
      }),
    );
    fn.addEnvironment(ENV.scanWaitsTable, this.table.tableName);
  }
}
