import { ArnFormat, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { ENV } from '../../shared/contracts/environment.js';
import type { ApprovalsTable } from './approvals-table.js';
import { HandlerFunction } from './handler-function.js';

/** The route Slack posts button clicks to (the Slack app manifest's interactivity URL). */
export const SLACK_INTERACTIONS_PATH = '/slack/interactions';

export interface SlackInteractionEndpointProps {
  readonly config: Config;
  /** Pending approvals: the click's approval id → the run's task token. */
  readonly approvals: ApprovalsTable;
  /** The state machine whose approval tasks the clicks answer. */
  readonly stateMachine: StateMachine;
  /** Steady requests per second the stage accepts. @default 20 */
  readonly rateLimit?: number;
  /** Burst the stage accepts. @default 40 */
  readonly burstLimit?: number;
}

/**
 * The public HTTPS endpoint Slack calls when someone clicks Approve or Reject: an HTTP API
 * (payload format 2.0, throttled, access-logged) in front of the slack-interaction Lambda, which
 * verifies Slack's signature on the raw body before anything else.
 */
export class SlackInteractionEndpoint extends Construct {
  readonly api: HttpApi;
  readonly handler: HandlerFunction;
  /** The full interactivity URL to put in the Slack app. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SlackInteractionEndpointProps) {
    super(scope, id);
    const { config } = props;
    this.handler = new HandlerFunction(this, {
      name: 'slack-interaction',
      config,
      // Slack gives up after 3 seconds; more memory means a faster cold start.
      memorySize: 512,
      timeout: Duration.seconds(10),
      environment: {
        [ENV.approvalsTable]: props.approvals.table.tableName,
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
      },
    });
    props.approvals.grantDecide(this.handler);
    this.handler.grantSecretRead(config.slack.botToken, config.slack.signingSecret);
    this.handler.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [props.stateMachine.stateMachineArn],
      }),
    );
    // When SendTaskSuccess answers ambiguously (a timeout, then TaskTimedOut), the run's history says
    // whether the approval landed. Only this state machine's executions; no cycle: the state machine
    // does not depend on this function.
    this.handler.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:GetExecutionHistory'],
        resources: [
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${props.stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    const machineId = Stack.of(this).getLogicalId(props.stateMachine.node.defaultChild as CfnElement);
    // The grant sits in the function's role, a sibling of the function under this construct.
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${machineId}.Name>:*]`,
      reason:
        "states:GetExecutionHistory on the promotion state machine's executions: an execution ARN is the machine's name plus the run's name, which the approval record holds.",
    });

    this.api = new HttpApi(this, 'api', {
      description: 'Shiplane: Slack interactivity (approval buttons)',
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: SLACK_INTERACTIONS_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('slack-interaction', this.handler, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });
    const accessLogs = new LogGroup(this, 'access-logs', { retention: RetentionDays.THREE_MONTHS });
    const stage = new HttpStage(this, 'stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 20, burstLimit: props.burstLimit ?? 40 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    this.url = `${stage.url.replace(/\/$/, '')}${SLACK_INTERACTIONS_PATH}`;

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Slack cannot send IAM or JWT credentials; every request is authenticated by its v0 signature (HMAC of the raw body with the signing secret, 5-minute window) in the function.',
    });
  }
}
