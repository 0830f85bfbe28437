import { asStateMachineDefinition, isJsonObject, type JsonValue, type StateMachineDefinition } from './asl';

/**
 * Reads the ASL of a state machine out of a synthesized CloudFormation template, resolving the
 * intrinsics CDK writes into `DefinitionString` to the values the deployed stack would have, so the
 * real definition can run locally. Physical names the stack does not fix are stood in by the
 * logical id, which keeps ARNs stable from one synth to the next.
 */

export interface CloudFormationResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CloudFormationTemplate {
  readonly Resources?: Record<string, CloudFormationResource>;
  readonly [section: string]: unknown;
}

/** Where the stack is deployed: the values of its pseudo-parameters. */
export interface DeploymentEnvironment {
  /** `aws-us-gov` in GovCloud. */
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Defaults to the partition's DNS suffix. */
  readonly urlSuffix?: string;
  /** Needed only when the definition refers to `AWS::StackName`. */
  readonly stackName?: string;
  /** Values of template parameters the definition refers to. */
  readonly parameters?: Readonly<Record<string, string>>;
}

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

export class UnresolvableIntrinsicError extends Error {
  override name = 'UnresolvableIntrinsicError';
}

const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';
const LAMBDA_FUNCTION_TYPE = 'AWS::Lambda::Function';

export function extractStateMachineDefinition(
  template: CloudFormationTemplate,
  options: ExtractOptions,
): StateMachineDefinition {
  const resolver = new IntrinsicResolver(template, options);
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
  const resolver = new IntrinsicResolver(template, environment);
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
  resolver: IntrinsicResolver,
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

function partitionUrlSuffix(partition: string): string | undefined {
  return {
    aws: 'amazonaws.com',
    'aws-us-gov': 'amazonaws.com',
    'aws-cn': 'amazonaws.com.cn',
    'aws-iso': 'c2s.ic.gov',
    'aws-iso-b': 'sc2s.sgov.gov',
  }[partition];
}

interface ResourceReference {
  readonly logicalId: string;
  /** The physical name: the resource's own name property, else its logical id. */
  readonly name: string;
  readonly env: Required<Pick<DeploymentEnvironment, 'partition' | 'region' | 'account'>> & {
    urlSuffix: string;
  };
}

interface ResourceKind {
  readonly nameProperty?: string;
  readonly ref: (r: ResourceReference) => string;
  readonly attributes: Readonly<Record<string, (r: ResourceReference) => string>>;
}

const arn = (r: ResourceReference, service: string, resource: string, regional = true) =>
  `arn:${r.env.partition}:${service}:${regional ? r.env.region : ''}:${r.env.account}:${resource}`;

/** What `Ref` and `Fn::GetAtt` return for the resource types AOR's workflows refer to. */
const RESOURCE_KINDS: Readonly<Record<string, ResourceKind>> = {
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'lambda', `function:${r.name}`) },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    ref: (r) => arn(r, 'sns', r.name),
    attributes: { TopicArn: (r) => arn(r, 'sns', r.name), TopicName: (r) => r.name },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    ref: (r) => `https://sqs.${r.env.region}.${r.env.urlSuffix}/${r.env.account}/${r.name}`,
    attributes: {
      Arn: (r) => arn(r, 'sqs', r.name),
      QueueName: (r) => r.name,
      QueueUrl: (r) => `https://sqs.${r.env.region}.${r.env.urlSuffix}/${r.env.account}/${r.name}`,
    },
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    ref: (r) => r.name,
    attributes: {
      Arn: (r) => arn(r, 'dynamodb', `table/${r.name}`),
      StreamArn: (r) => arn(r, 'dynamodb', `table/${r.name}/stream/1970-01-01T00:00:00.000`),
    },
  },
  'AWS::DynamoDB::GlobalTable': {
    nameProperty: 'TableName',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'dynamodb', `table/${r.name}`) },
  },
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    ref: (r) => r.name.toLowerCase(),
    attributes: {
      Arn: (r) => `arn:${r.env.partition}:s3:::${r.name.toLowerCase()}`,
      DomainName: (r) => `${r.name.toLowerCase()}.s3.${r.env.urlSuffix}`,
      RegionalDomainName: (r) => `${r.name.toLowerCase()}.s3.${r.env.region}.${r.env.urlSuffix}`,
    },
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    ref: (r) => arn(r, 'states', `stateMachine:${r.name}`),
    attributes: { Arn: (r) => arn(r, 'states', `stateMachine:${r.name}`), Name: (r) => r.name },
  },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'iam', `role/${r.name}`, false) },
  },
  'AWS::Events::EventBus': {
    nameProperty: 'Name',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'events', `event-bus/${r.name}`), Name: (r) => r.name },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'logs', `log-group:${r.name}:*`) },
  },
  'AWS::KMS::Key': {
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'kms', `key/${r.name}`), KeyId: (r) => r.name },
  },
  'AWS::SSM::Parameter': { nameProperty: 'Name', ref: (r) => r.name, attributes: {} },
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    ref: (r) => arn(r, 'secretsmanager', `secret:${r.name}`),
    attributes: {},
  },
  'AWS::EKS::Cluster': {
    nameProperty: 'Name',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'eks', `cluster/${r.name}`) },
  },
  'AWS::RDS::DBInstance': {
    nameProperty: 'DBInstanceIdentifier',
    ref: (r) => r.name.toLowerCase(),
    attributes: { DBInstanceArn: (r) => arn(r, 'rds', `db:${r.name.toLowerCase()}`) },
  },
  'AWS::RDS::DBCluster': {
    nameProperty: 'DBClusterIdentifier',
    ref: (r) => r.name.toLowerCase(),
    attributes: { DBClusterArn: (r) => arn(r, 'rds', `cluster:${r.name.toLowerCase()}`) },
  },
};

class IntrinsicResolver {
  private readonly env: ResourceReference['env'];

  constructor(
    private readonly template: CloudFormationTemplate,
    private readonly environment: DeploymentEnvironment,
  ) {
    const urlSuffix = environment.urlSuffix ?? partitionUrlSuffix(environment.partition);
    if (urlSuffix === undefined) {
      throw new UnresolvableIntrinsicError(`no URL suffix known for partition ${environment.partition}`);
    }
    this.env = {
      partition: environment.partition,
      region: environment.region,
      account: environment.account,
      urlSuffix,
    };
  }

  resolveString(value: unknown, where: string): string {
    const resolved = this.resolve(value, where);
    if (typeof resolved !== 'string') {
      throw new UnresolvableIntrinsicError(`${where}: expected a string, got ${JSON.stringify(resolved)}`);
    }
    return resolved;
  }

  resolve(value: unknown, where: string): JsonValue {
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => this.resolve(item, where));
    if (!isJsonObject(value)) throw new UnresolvableIntrinsicError(`${where}: not JSON: ${String(value)}`);
    const keys = Object.keys(value);
    const [intrinsic] = keys;
    if (
      keys.length === 1 &&
      intrinsic !== undefined &&
      (intrinsic === 'Ref' || intrinsic.startsWith('Fn::'))
    ) {
      return this.resolveIntrinsic(intrinsic, value[intrinsic], where);
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.resolve(item, where)]));
  }

  private resolveIntrinsic(name: string, argument: unknown, where: string): JsonValue {
    const unresolvable = () =>
      new UnresolvableIntrinsicError(`${where}: cannot resolve ${JSON.stringify({ [name]: argument })}`);
    switch (name) {
      case 'Ref':
        if (typeof argument !== 'string') throw unresolvable();
        return this.ref(argument, where);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] =
          typeof argument === 'string' ? splitOnce(argument, '.') : Array.isArray(argument) ? argument : [];
        if (typeof logicalId !== 'string' || typeof attribute !== 'string') throw unresolvable();
        return this.getAtt(logicalId, attribute, where);
      }
      case 'Fn::Join': {
        if (!Array.isArray(argument) || typeof argument[0] !== 'string' || !Array.isArray(argument[1])) {
          throw unresolvable();
        }
        const [delimiter, parts] = argument as [string, unknown[]];
        return parts.map((part) => this.resolveString(part, where)).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, list] = Array.isArray(argument) ? argument : [];
        const resolved = this.resolve(list, where);
        const item = Array.isArray(resolved) ? resolved[Number(this.resolve(index, where))] : undefined;
        if (item === undefined) throw unresolvable();
        return item;
      }
      case 'Fn::Split': {
        const [delimiter, source] = Array.isArray(argument) ? argument : [];
        if (typeof delimiter !== 'string') throw unresolvable();
        return this.resolveString(source, where).split(delimiter);
      }
      case 'Fn::Sub':
        return this.sub(argument, where, unresolvable);
      default:
        throw unresolvable();
    }
  }

  private sub(argument: unknown, where: string, unresolvable: () => Error): string {
    const [text, variables] =
      typeof argument === 'string' ? [argument, {}] : Array.isArray(argument) ? argument : [];
    if (typeof text !== 'string' || !isJsonObject(variables)) throw unresolvable();
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, expression: string) => {
      if (literal) return `\${${expression}}`;
      if (expression in variables) return this.resolveString(variables[expression], where);
      const [logicalId, attribute] = splitOnce(expression, '.');
      return attribute === undefined
        ? this.resolveString(this.ref(expression, where), where)
        : this.getAtt(logicalId, attribute, where);
    });
  }

  private ref(name: string, where: string): string {
    switch (name) {
      case 'AWS::Partition':
        return this.env.partition;
      case 'AWS::Region':
        return this.env.region;
      case 'AWS::AccountId':
        return this.env.account;
      case 'AWS::URLSuffix':
        return this.env.urlSuffix;
      case 'AWS::StackName':
        if (this.environment.stackName === undefined) {
          throw new UnresolvableIntrinsicError(`${where}: AWS::StackName needs the stackName option`);
        }
        return this.environment.stackName;
    }
    const parameter = this.environment.parameters?.[name];
    if (parameter !== undefined) return parameter;
    const [reference, kind] = this.reference(name, where);
    return kind.ref(reference);
  }

  private getAtt(logicalId: string, attribute: string, where: string): string {
    const [reference, kind] = this.reference(logicalId, where);
    const read = kind.attributes[attribute];
    if (!read) throw new UnresolvableIntrinsicError(`${where}: unknown attribute ${logicalId}.${attribute}`);
    return read(reference);
  }

  private reference(logicalId: string, where: string): [ResourceReference, ResourceKind] {
    const resource = this.template.Resources?.[logicalId];
    if (!resource) throw new UnresolvableIntrinsicError(`${where}: no resource or parameter ${logicalId}`);
    const kind = RESOURCE_KINDS[resource.Type];
    if (!kind)
      throw new UnresolvableIntrinsicError(`${where}: cannot refer to a ${resource.Type} (${logicalId})`);
    const nameValue = kind.nameProperty === undefined ? undefined : resource.Properties?.[kind.nameProperty];
    const name =
      nameValue === undefined
        ? logicalId
        : this.resolveString(nameValue, `${logicalId}.${kind.nameProperty}`);
    return [{ logicalId, name, env: this.env }, kind];
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}
