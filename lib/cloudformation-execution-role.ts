import { DefaultStackSynthesizer, Fn, type Stack } from 'aws-cdk-lib';

/** The stack is synthesized for a deployment that uses no CDK bootstrap execution role. */
export class NoExecutionRoleError extends Error {
  override name = 'NoExecutionRoleError';
}

/**
 * The ARN of the role CloudFormation deploys a stack with: the CDK bootstrap's execution role
 * (`cdk-<qualifier>-cfn-exec-role-<account>-<region>`), as the stack's synthesizer names it, so a
 * custom qualifier or role is honoured. Resource policies that deny structural changes to everyone
 * exempt it, or the stack could never be updated again.
 */
export function cloudFormationExecutionRoleArn(stack: Stack): string {
  const synthesizer = stack.synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) {
    throw new NoExecutionRoleError(
      `${stack.stackName}: its resource policies exempt the CDK bootstrap execution role, which only the DefaultStackSynthesizer deploys with`,
    );
  }
  // The synthesizer leaves `${AWS::Partition}` (and, for an environment-agnostic stack, the
  // account and region) as CloudFormation placeholders: Fn::Sub fills them in at deploy time.
  return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
}
