import { describe, expect, it } from 'vitest';
import {
  AmbiguousStateMachineError,
  type CloudFormationTemplate,
  extractStateMachineDefinition,
  resolveLambdaFunctions,
  StateMachineNotFoundError,
  UnresolvableIntrinsicError,
} from '../../../local/workflow/definition';

const GOV_WEST = { partition: 'aws-us-gov', region: 'us-gov-west-1', account: '111122223333' };

/** A template shaped like CDK's output: the ASL is a Fn::Join of JSON text and intrinsics. */
function templateWith(
  definitionParts: unknown[],
  extra: CloudFormationTemplate['Resources'] = {},
): CloudFormationTemplate {
  return {
    Resources: {
      ClassifyFnA1B2C3D4: {
        Type: 'AWS::Lambda::Function',
        Properties: { Handler: 'index.handler' },
        Metadata: { 'aws:cdk:path': 'Aor/Classify/Resource' },
      },
      NamedFn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'aor-escalate' } },
      AlertsTopic: { Type: 'AWS::SNS::Topic' },
      IncidentsTable: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'aor-incidents' } },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { DefinitionString: { 'Fn::Join': ['', definitionParts] } },
      },
      ...extra,
    },
  };
}

const task = (name: string, resource: unknown[], parameters: unknown[] = ['{}']) => [
  `"${name}":{"Type":"Task","Resource":"`,
  ...resource,
  '","Parameters":',
  ...parameters,
  ',"End":true}',
];

describe('extractStateMachineDefinition', () => {
  it('resolves pseudo-parameters, Lambda ARNs, topic and table references in the partition given', () => {
    const template = templateWith([
      '{"StartAt":"Classify","States":{"Classify":{"Type":"Task","Resource":"arn:',
      { Ref: 'AWS::Partition' },
      ':states:::lambda:invoke","Parameters":{"FunctionName":"',
      { 'Fn::GetAtt': ['ClassifyFnA1B2C3D4', 'Arn'] },
      '","Payload.$":"$"},"Next":"Notify"},',
      ...task(
        'Notify',
        ['arn:', { Ref: 'AWS::Partition' }, ':states:::sns:publish'],
        [
          '{"TopicArn":"',
          { Ref: 'AlertsTopic' },
          '","Message":"',
          // CloudFormation placeholders
          { 'Fn::Sub': 'in ${AWS::Region} (${AWS::AccountId}) via ${AWS::URLSuffix}, ${!Literal}' },
          '","Table":"',
          { Ref: 'IncidentsTable' },
          '","Escalate":"',
          { 'Fn::GetAtt': 'NamedFn.Arn' },
          '","Zone":"',
          { 'Fn::Select': [1, { 'Fn::Split': ['-', { Ref: 'AWS::Region' }] }] },
          '"}',
        ],
      ),
      '}}',
    ]);

    const definition = extractStateMachineDefinition(template, GOV_WEST);

    expect(definition.StartAt).toBe('Classify');
    expect(definition.States.Classify).toMatchObject({
      Resource: 'arn:aws-us-gov:states:::lambda:invoke',
      Parameters: {
        FunctionName: 'arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:ClassifyFnA1B2C3D4',
      },
    });
    expect(definition.States.Notify).toMatchObject({
      Resource: 'arn:aws-us-gov:states:::sns:publish',
      Parameters: {
        TopicArn: 'arn:aws-us-gov:sns:us-gov-west-1:111122223333:AlertsTopic',
        // CloudFormation placeholders
        Message: 'in us-gov-west-1 (111122223333) via amazonaws.com, ${Literal}',
        Table: 'aor-incidents',
        Escalate: 'arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:aor-escalate',
        Zone: 'gov',
      },
    });
  });

  it('applies DefinitionSubstitutions, themselves resolved, to a Definition object', () => {
    const template: CloudFormationTemplate = {
      Resources: {
        ClassifyFnA1B2C3D4: { Type: 'AWS::Lambda::Function' },
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            Definition: {
              StartAt: 'Classify',
              States: {
                // CloudFormation placeholders
                Classify: { Type: 'Task', Resource: '${ClassifyArn}', TimeoutSeconds: 30, End: true },
              },
            },
            DefinitionSubstitutions: { ClassifyArn: { 'Fn::GetAtt': ['ClassifyFnA1B2C3D4', 'Arn'] } },
          },
        },
      },
    };

    const definition = extractStateMachineDefinition(template, {
      ...GOV_WEST,
      partition: 'aws-iso',
      region: 'us-iso-east-1',
    });

    expect(definition.States.Classify).toEqual({
      Type: 'Task',
      Resource: 'arn:aws-iso:lambda:us-iso-east-1:111122223333:function:ClassifyFnA1B2C3D4',
      TimeoutSeconds: 30,
      End: true,
    });
  });

  it('picks a state machine by logical id or StateMachineName, and refuses to guess between several', () => {
    const machine = (comment: string, name?: string) => ({
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        ...(name ? { StateMachineName: name } : {}),
        DefinitionString: `{"Comment":"${comment}","StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`,
      },
    });
    const template: CloudFormationTemplate = {
      Resources: { Incident: machine('incident', 'aor-incident-response'), Recovery: machine('recovery') },
    };

    expect(extractStateMachineDefinition(template, { ...GOV_WEST, logicalId: 'Recovery' }).Comment).toBe(
      'recovery',
    );
    expect(
      extractStateMachineDefinition(template, { ...GOV_WEST, stateMachineName: 'aor-incident-response' })
        .Comment,
    ).toBe('incident');
    expect(() => extractStateMachineDefinition(template, GOV_WEST)).toThrow(AmbiguousStateMachineError);
    expect(() => extractStateMachineDefinition(template, { ...GOV_WEST, logicalId: 'Drill' })).toThrow(
      StateMachineNotFoundError,
    );
    expect(() => extractStateMachineDefinition({ Resources: {} }, GOV_WEST)).toThrow(
      StateMachineNotFoundError,
    );
  });

  it.each([
    ['an import', { 'Fn::ImportValue': 'SharedTopicArn' }, /Fn::ImportValue/],
    ['a resource type it cannot name', { Ref: 'Vpc' }, /AWS::EC2::VPC/],
    ['an unknown attribute', { 'Fn::GetAtt': ['AlertsTopic', 'Arn'] }, /AlertsTopic\.Arn/],
    ['a missing resource', { Ref: 'Nowhere' }, /Nowhere/],
    ['the stack name, unless given', { Ref: 'AWS::StackName' }, /stackName option/],
  ])('refuses %s', (_, intrinsic, message) => {
    const template = templateWith(
      ['{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"', intrinsic, '","End":true}}}'],
      { Vpc: { Type: 'AWS::EC2::VPC' } },
    );

    expect(() => extractStateMachineDefinition(template, GOV_WEST)).toThrow(UnresolvableIntrinsicError);
    expect(() => extractStateMachineDefinition(template, GOV_WEST)).toThrow(message);
  });

  it('resolves the stack name and template parameters when given', () => {
    const template = templateWith([
      '{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"',
      { Ref: 'AWS::StackName' },
      '/',
      { Ref: 'Stage' },
      '","End":true}}}',
    ]);

    const definition = extractStateMachineDefinition(template, {
      ...GOV_WEST,
      stackName: 'AorIncidentResponse',
      parameters: { Stage: 'prod' },
    });

    expect(definition.States.P?.Result).toBe('AorIncidentResponse/prod');
  });
});

describe('resolveLambdaFunctions', () => {
  it('maps each function ARN the definitions use back to its logical id, name and construct path', () => {
    const functions = resolveLambdaFunctions(templateWith(['{}']), GOV_WEST);

    expect(
      functions.get('arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:ClassifyFnA1B2C3D4'),
    ).toEqual({
      arn: 'arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:ClassifyFnA1B2C3D4',
      functionName: 'ClassifyFnA1B2C3D4',
      logicalId: 'ClassifyFnA1B2C3D4',
      constructPath: 'Aor/Classify/Resource',
      handler: 'index.handler',
    });
    expect(
      functions.get('arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:aor-escalate')?.logicalId,
    ).toBe('NamedFn');
    expect(functions.size).toBe(2);
  });
});
