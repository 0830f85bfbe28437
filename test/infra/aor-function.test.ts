import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { AorFunction } from '../../lib/constructs/aor-function';
import { CustomerKey } from '../../lib/constructs/customer-key';
import { TaskNetwork } from '../../lib/constructs/task-network';
import { exampleConfig } from '../support/app';

let template: Template;
let assetDir: string;

beforeAll(() => {
  const outdir = path.join(os.tmpdir(), `aor-function-${process.pid}`);
  const app = new App({ outdir });
  const stack = new Stack(app, 'HouseFunction', {
    env: { account: '111122223333', region: 'us-gov-west-1' },
  });
  const key = new CustomerKey(stack, 'Key', { alias: 'aor/test', description: 'test key' });
  new AorFunction(stack, 'Echo', {
    entry: 'test/fixtures/echo-handler.ts',
    description: 'Echoes its event',
    serviceName: 'echo',
    encryptionKey: key.key,
    network: new TaskNetwork(stack, 'Network', exampleConfig().primary.network),
    logRetention: logs.RetentionDays.ONE_YEAR,
    environment: { TABLE_NAME: 'incidents' },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  const assembly = app.synth();
  template = Template.fromJSON(assembly.getStackByName('HouseFunction').template);
  const s3Key: string = Object.values(template.findResources('AWS::Lambda::Function'))[0]?.Properties.Code
    .S3Key;
  assetDir = path.join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
});

describe('AorFunction, the house Lambda construct', () => {
  it('runs Node.js 22 on arm64 with X-Ray, reserved concurrency and a KMS-encrypted environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 5,
      KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      VpcConfig: { SubnetIds: ['subnet-0a1b2c3d4e5f60011', 'subnet-0a1b2c3d4e5f60012'] },
      Environment: {
        Variables: {
          AWS_USE_FIPS_ENDPOINT: 'true',
          POWERTOOLS_SERVICE_NAME: 'echo',
          POWERTOOLS_METRICS_NAMESPACE: 'AOR',
          NODE_OPTIONS: '--enable-source-maps',
          TABLE_NAME: 'incidents',
        },
      },
    });
  });

  it('logs to its own encrypted log group with retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^EchoLogGroup') } },
    });
  });

  it('has a role of its own with no AWS managed policy', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('ships a minified ESM bundle with a source map', () => {
    const files = readdirSync(assetDir);
    expect(files.sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    expect(bundle).toContain('createRequire');
    expect(bundle).toMatch(/sourceMappingURL=index\.mjs\.map/);
    expect(statSync(path.join(assetDir, 'index.mjs')).size).toBeLessThan(2_000);
  });
});
