import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';
import type { AorFunction } from './aor-function';

export interface AorStateMachineProps {
  readonly stateMachineName: string;
  readonly definition: sfn.IChainable;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly timeout: Duration;
  /** The functions its Tasks invoke: its role may invoke exactly those. */
  readonly functions: readonly AorFunction[];
}

/**
 * The house state machine: Standard, X-Ray traced, every execution's events logged (with their
 * data) to its own KMS-encrypted log group, its definition and state encrypted with the customer
 * key, its role limited to its own functions.
 */
export class AorStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: AorStateMachineProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(props.encryptionKey),
    });
    const stack = Stack.of(this);
    acknowledgeFindings(this.stateMachine, {
      'NIST.800.53.R5-IAMNoInlinePolicy':
        'The state machine role (and an EventBridge role, where it has one) gets a policy generated for exactly its functions and log delivery.',
      'AwsSolutions-IAM5[Resource::*]':
        'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing do not support resource-level permissions.',
      ...Object.fromEntries(
        props.functions.map((f) => [
          `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(f.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
          "The state machine may invoke its function and that function's versions and aliases (ARN:*), nothing else.",
        ]),
      ),
    });
  }
}
