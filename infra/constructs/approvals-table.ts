import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { APPROVALS_PARTITION_KEY, APPROVALS_TTL_ATTRIBUTE } from '../../shared/contracts/approvals-table.js';

/**
 * Pending approvals (the task token kept server-side, keyed by a short approval id) and each
 * release's Slack thread. Items expire through TTL once their run can no longer use them.
 */
export class ApprovalsTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'table', {
      partitionKey: { name: APPROVALS_PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: APPROVALS_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
  }

  /**
   * Single-item reads and (conditional) writes: all the approvals store does. No Scan, Query or batch
   * operations, which CDK's grantReadWriteData would add.
   */
  grantItemReadWrite(grantee: IGrantable): void {
    this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
  }

  /**
   * What deciding an approval needs: read an `approval#…` item and update it conditionally. For the
   * public Slack endpoint, which creates nothing and has no business with threads or pointers.
   */
  grantDecide(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['approval#*'] } },
      }),
    );
  }

  /**
   * What the intake needs to claim a released tag: a conditional PutItem on `release#…` items only (the
   * old item comes back with a failed condition, so no read). Approvals, threads and pointers stay out
   * of its reach.
   */
  grantClaimReleases(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['release#*'] } },
      }),
    );
  }
}
