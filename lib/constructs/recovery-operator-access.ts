import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';
import {
  PERSON_ITEM_LEADING_KEYS,
  PERSON_ITEM_PATTERNS,
  RUNS_SUBJECT_INDEX,
} from '../../lambdas/core/recovery/recovery-contract';
import { RECOVERY_STATE_MACHINE_NAME } from '../../lambdas/shared/state-machine-names';

export interface RecoveryOperatorAccessProps {
  /** The recovery runs table, where people write their start requests and approval decisions. */
  readonly runs: dynamodb.Table;
  readonly dataKey: kms.IKey;
  readonly stateMachineArn: string;
}

/**
 * What people do with disaster recovery, and the rule that makes their word count: each may write
 * start requests and approval decisions only under their own `aws:userid` (the table's own policy
 * denies any other, administrators included), so the workflow knows who started a run and who
 * approved its routing switch without trusting what anyone claims. `policy` is what an operator's
 * role attaches to use `aor dr start|approve|reject|abandon|status|list|watch`.
 */
export class RecoveryOperatorAccess extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: RecoveryOperatorAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    props.runs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'PeopleWriteOnlyTheirOwnDecisions',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ],
        resources: ['*'],
        conditions: {
          'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [...PERSON_ITEM_PATTERNS] },
          'ForAnyValue:StringNotLike': { 'dynamodb:LeadingKeys': [...PERSON_ITEM_LEADING_KEYS] },
        },
      }),
    );
    const indexArn = `${props.runs.tableArn}/index/${RUNS_SUBJECT_INDEX.name}`;
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: `aor-recovery-operator-${stack.region}`,
      description: `AOR disaster recovery (${stack.region}): start, approve, reject, abandon and follow runs`,
      statements: [
        new iam.PolicyStatement({
          sid: 'WriteOwnStartRequestsAndDecisions',
          actions: ['dynamodb:PutItem'],
          resources: [props.runs.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...PERSON_ITEM_LEADING_KEYS] },
          },
        }),
        new iam.PolicyStatement({
          sid: 'FollowRuns',
          actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
          resources: [props.runs.tableArn, indexArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadStackOutputs',
          // Every `aor dr` command finds the state machine and the runs table by the stack's outputs.
          actions: ['cloudformation:DescribeStacks'],
          resources: [
            stack.formatArn({
              service: 'cloudformation',
              resource: 'stack',
              resourceName: `${stack.stackName}/*`,
            }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'StartAndFollowExecutions',
          actions: ['states:StartExecution', 'states:DescribeStateMachine', 'states:ListExecutions'],
          resources: [props.stateMachineArn],
        }),
        new iam.PolicyStatement({
          sid: 'DescribeExecutions',
          actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
          resources: [
            stack.formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: `${RECOVERY_STATE_MACHINE_NAME}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'UseRunsDataKeyThroughDynamoDb',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [props.dataKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
        }),
      ],
    });
    acknowledgeFindings(policy, {
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:${stack.region}:${stack.account}:stack/${stack.stackName}/*]`]:
        'A stack ARN ends in the id CloudFormation gives it at creation; this is the one stack, by name.',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${stack.account}:execution:${RECOVERY_STATE_MACHINE_NAME}:*]`]:
        "Executions are named at start; every execution of the recovery state machine, and no other's.",
    });
    this.policy = policy;
  }
}
