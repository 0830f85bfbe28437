import { asStateMachineDefinition, isJsonObject, type StateMachineDefinition } from './asl';
import {
  type CloudFormationResource,
  type CloudFormationTemplate,
  type DeploymentEnvironment,
  TemplateResolver,
} from './template-intrinsics';

/**
 * Reads the ASL of a state machine out of a synthesized CloudFormation template, resolving the
 * intrinsics CDK writes into `DefinitionString` to the values the deployed stack would have, so the
 * real definition can run locally. Physical names the stack does not fix are stood in by the
 * logical id (the resolver's default), which keeps ARNs stable from one synth to the next.
 */

// Callers of extractStateMachineDefinition need the template and environment types and the error it
// may throw; they take them from here rather than having to know which module resolves intrinsics.
export {
  type CloudFormationResource,
  type CloudFormationTemplate,
  type DeploymentEnvironment,
  UnresolvableIntrinsicError,
} from './template-intrinsics';

export interface ExtractOptions extends DeploymentEnvironment {
  /** The state machine's logical id; needed when the template holds more than one. */
  readonly logicalId?: string;
  /** Alternatively, the `StateMachineName` the stack gives it. */
  readonly stateMachineName?: string;
}

export interface LambdaFunctionIdentity {
  readonly arn: string;
  readonly functionName: string;
  readonly logicalId: string;
  /** The construct path (`aws:cdk:path` metadata), when the synth recorded it. */
  readonly constructPath?: string;
  /** The `Handler` property, e.g. `index.handler`. */
  readonly handler?: string;
}

export class StateMachineNotFoundError extends Error {
  override name = 'StateMachineNotFoundError';
}

export class AmbiguousStateMachineError extends Error {
  override name = 'AmbiguousStateMachineError';
}

const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';
const LAMBDA_FUNCTION_TYPE = 'AWS::Lambda::Function';

export function extractStateMachineDefinition(
  template: CloudFormationTemplate,
  options: ExtractOptions,
): StateMachineDefinition {
  const resolver = new TemplateResolver(template, options);
  const [logicalId, resource] = findStateMachine(template, options, resolver);
  const properties = resource.Properties ?? {};
  const where = `state machine ${logicalId}`;
  let text: string;
  if (properties.DefinitionString !== undefined) {
    text = resolver.resolveString(properties.DefinitionString, `${where} DefinitionString`);
  } else if (properties.Definition !== undefined) {
    text = JSON.stringify(resolver.resolve(properties.Definition, `${where} Definition`));
  } else {
    throw new StateMachineNotFoundError(
      `${where} has no inline definition (DefinitionS3Location is not read)`,
    );
  }
  const substitutions = properties.DefinitionSubstitutions;
  if (isJsonObject(substitutions)) {
    for (const [key, value] of Object.entries(substitutions)) {
      const resolved = resolver.resolve(value, `${where} DefinitionSubstitutions.${key}`);
      text = text.replaceAll(
        `\${${key}}`,
        typeof resolved === 'string' ? resolved : JSON.stringify(resolved),
      );
    }
  }
  return asStateMachineDefinition(JSON.parse(text), where);
}

/**
 * The template's Lambda functions keyed by the ARN the resolved definitions use for them, so a
 * test or a drill can tell which function a Task invokes and bind the matching local handler.
 */
export function resolveLambdaFunctions(
  template: CloudFormationTemplate,
  environment: DeploymentEnvironment,
): ReadonlyMap<string, LambdaFunctionIdentity> {
  const resolver = new TemplateResolver(template, environment);
  const functions = new Map<string, LambdaFunctionIdentity>();
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== LAMBDA_FUNCTION_TYPE) continue;
    const arn = resolver.resolveString({ 'Fn::GetAtt': [logicalId, 'Arn'] }, logicalId);
    const constructPath = resource.Metadata?.['aws:cdk:path'];
    const handler = resource.Properties?.Handler;
    functions.set(arn, {
      arn,
      functionName: resolver.resolveString({ Ref: logicalId }, logicalId),
      logicalId,
      ...(typeof constructPath === 'string' ? { constructPath } : {}),
      ...(typeof handler === 'string' ? { handler } : {}),
    });
  }
  return functions;
}

function findStateMachine(
  template: CloudFormationTemplate,
  options: ExtractOptions,
  resolver: TemplateResolver,
): [string, CloudFormationResource] {
  const machines = Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === STATE_MACHINE_TYPE);
  const ids = machines.map(([id]) => id).join(', ') || 'none';
  if (options.logicalId !== undefined) {
    const found = machines.find(([id]) => id === options.logicalId);
    if (!found)
      throw new StateMachineNotFoundError(`no state machine ${options.logicalId} (template has ${ids})`);
    return found;
  }
  if (options.stateMachineName !== undefined) {
    const found = machines.find(
      ([id, r]) =>
        r.Properties?.StateMachineName !== undefined &&
        resolver.resolve(r.Properties.StateMachineName, id) === options.stateMachineName,
    );
    if (!found)
      throw new StateMachineNotFoundError(`no state machine named ${options.stateMachineName} (${ids})`);
    return found;
  }
  const [only, ...others] = machines;
  if (!only) throw new StateMachineNotFoundError('the template has no AWS::StepFunctions::StateMachine');
  if (others.length > 0) {
    throw new AmbiguousStateMachineError(`the template has several state machines (${ids}): pass logicalId`);
  }
  return only;
}
