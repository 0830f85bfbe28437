import { isJsonObject, type JsonValue } from './asl';

/**
 * Resolves the CloudFormation intrinsics of a synthesized template (Ref, Fn::GetAtt, Fn::Join,
 * Fn::Sub, …) to the values the deployed stack would hold, so that what CDK wrote (a state machine
 * definition, a policy, an environment) can be run or judged locally. One resolver serves the
 * local workflow runner and the IAM tests, so both read a template the same way.
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

/** Where the stack is deployed: the values of its pseudo-parameters, and how to stand in for the rest. */
export interface DeploymentEnvironment {
  /** `aws-us-gov` in GovCloud. */
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Defaults to the partition's DNS suffix. */
  readonly urlSuffix?: string;
  /** Needed only when the template refers to `AWS::StackName`. */
  readonly stackName?: string;
  /** Values of template parameters the template refers to. */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * The name CloudFormation would make up for a resource whose template fixes none. By default the
   * logical id, which keeps ARNs stable from one synth to the next; several stacks resolved together
   * pass one that includes the stack name, so that the same construct in two stacks gets two names.
   */
  readonly physicalName?: (logicalId: string) => string;
  /** The value another stack exports under this name; without it, `Fn::ImportValue` is unresolvable. */
  readonly importValue?: (exportName: string) => JsonValue;
}

export class UnresolvableIntrinsicError extends Error {
  override name = 'UnresolvableIntrinsicError';
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
  /** The physical name: the resource's own name property, else the environment's stand-in. */
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

/** What `Ref` and `Fn::GetAtt` return for the resource types AOR's workflows and policies refer to. */
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

/** Resolves the intrinsics of one stack's template; `where` names the value in error messages. */
export class TemplateResolver {
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
      case 'Fn::ImportValue': {
        const exportName = this.resolveString(argument, where);
        if (this.environment.importValue === undefined) {
          throw new UnresolvableIntrinsicError(
            `${where}: Fn::ImportValue ${exportName} needs the importValue option`,
          );
        }
        return this.environment.importValue(exportName);
      }
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
        ? (this.environment.physicalName?.(logicalId) ?? logicalId)
        : this.resolveString(nameValue, `${logicalId}.${kind.nameProperty}`);
    return [{ logicalId, name, env: this.env }, kind];
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}
