import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';
import type { TaskNetwork } from './task-network';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Namespace of every AOR custom metric (Powertools metrics). */
export const METRICS_NAMESPACE = 'AOR';

export interface AorFunctionProps {
  /** Handler module, relative to the project root, e.g. `lambdas/handlers/ledger-sequencer.ts`. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name: groups the function's logs, metrics and traces. */
  readonly serviceName: string;
  readonly encryptionKey: kms.IKey;
  readonly network: TaskNetwork;
  readonly logRetention: logs.RetentionDays;
  readonly environment?: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /**
   * Concurrency reserved for (and capping) this function. Defaults to 5: operations tasks are
   * few and must not be starved by, nor starve, the platform's own functions.
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * The house Lambda function: Node.js 22 on arm64, an esbuild-minified ESM bundle with source maps,
 * X-Ray active tracing, its own KMS-encrypted log group with retention, FIPS endpoints for every
 * AWS SDK client, an environment encrypted with a customer key, and a role of its own that starts
 * with nothing but its log group and its network interfaces; callers add grants.
 */
export class AorFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AorFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `AOR ${props.serviceName}: ${props.description}`.slice(0, 1000),
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(vpcNetworkInterfaceStatement(Stack.of(this)));

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions ?? 5,
      environmentEncryption: props.encryptionKey,
      vpc: props.network.vpc,
      vpcSubnets: props.network.subnets,
      securityGroups: [props.network.securityGroup],
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        AWS_USE_FIPS_ENDPOINT: 'true',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
        logLevel: nodejs.LogLevel.WARNING,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // Some CommonJS dependencies call require() at run time; ESM bundles need it defined.
        banner:
          "import { createRequire as aorCreateRequire } from 'module';const require = aorCreateRequire(import.meta.url);",
        // The AWS SDK v3 comes with the nodejs22.x runtime (the CDK default for it): bundling our
        // pinned copy would put every task over 500 KB (the action task near 1 MB). The SDK's
        // stable v3 API is what the tests exercise; everything else is bundled and pinned.
        externalModules: ['@aws-sdk/*'],
      },
    });

    acknowledgeFindings(this, {
      'AwsSolutions-L1':
        'Pinned to nodejs22.x, the runtime CI tests the bundles on; a runtime upgrade is a deliberate, tested change, not a drift.',
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray PutTraceSegments/PutTelemetryRecords and the EC2 network-interface actions Lambda needs in a VPC do not support resource-level permissions.',
      'NIST.800.53.R5-IAMNoInlinePolicy':
        'Each function has its own role whose policy is generated from grants on the exact resources it uses; a managed policy would be shared and broader.',
      'NIST.800.53.R5-LambdaDLQ':
        'AOR tasks are invoked synchronously by Step Functions or through EventBridge targets with their own dead-letter queues; an asynchronous-invoke DLQ would never receive an event.',
    });
  }
}

/** What Lambda needs to attach a function to VPC subnets when the role is not its default one. */
function vpcNetworkInterfaceStatement(stack: Stack): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:RequestedRegion': stack.region } },
  });
}
