import type { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AorStacks } from '../../lib/aor-app';
import type { JsonValue } from '../../local/workflow/asl';
import {
  type CloudFormationTemplate,
  TemplateResolver,
  UnresolvableIntrinsicError,
} from '../../local/workflow/template-intrinsics';
import type { SynthesizedAor } from './app';

/**
 * Policies out of the synthesized templates, with their CloudFormation intrinsics resolved to the
 * strings the deployed stacks would hold, so that an IAM evaluator can judge real requests against
 * them. Physical names the templates fix are used as they are; others are made up as CloudFormation
 * makes them, from the stack name and the logical id, so that the same construct in two stacks (the
 * two ledgers) gets two names.
 */

export type PolicyDocument = { Version: string; Statement: Record<string, unknown>[] };
type Template = CloudFormationTemplate & {
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
};

export const PARTITION = 'aws-us-gov';

/** A construct, or the policy asked of it, that the synthesized stacks do not hold. */
export class UnresolvableError extends Error {
  override name = 'UnresolvableError';
}

interface StackTemplate {
  readonly stack: Stack;
  readonly template: Template;
  readonly resolver: TemplateResolver;
}

/** Resolves the templates of every AOR stack, cross-stack imports included. */
export class SynthesizedPolicies {
  private readonly entries: StackTemplate[];
  private readonly exports = new Map<string, { from: StackTemplate; value: unknown }>();

  constructor(synthesized: SynthesizedAor) {
    const { stacks } = synthesized;
    this.entries = (Object.keys(stacks) as (keyof AorStacks)[]).map((key) => {
      const stack = stacks[key];
      const template = synthesized.templates[key].toJSON() as Template;
      const resolver = new TemplateResolver(template, {
        partition: PARTITION,
        region: stack.region,
        account: stack.account,
        stackName: stack.stackName,
        physicalName: (logicalId) => `${stack.stackName}-${logicalId}`,
        importValue: (exportName) => this.importValue(exportName),
      });
      return { stack, template, resolver };
    });
    for (const entry of this.entries) {
      for (const [outputId, output] of Object.entries(entry.template.Outputs ?? {})) {
        if (output.Export) {
          const where = `${entry.stack.stackName} output ${outputId}`;
          this.exports.set(entry.resolver.resolveString(output.Export.Name, where), {
            from: entry,
            value: output.Value,
          });
        }
      }
    }
  }

  /** The deployed ARN of a role, as IAM puts it in `aws:PrincipalArn`. */
  roleArn(role: IConstruct): string {
    return this.attribute(role, 'Arn');
  }

  /** The deployed ARN (or name) of any resource attribute. */
  attribute(construct: IConstruct, attribute: string): string {
    return this.entryOf(construct).resolver.resolveString(
      { 'Fn::GetAtt': [this.logicalId(construct), attribute] },
      construct.node.path,
    );
  }

  /** A resource's own policy property (`ResourcePolicy.PolicyDocument`, `KeyPolicy`, `PolicyDocument`). */
  resourceProperty(construct: IConstruct, path: string[]): PolicyDocument {
    const { template } = this.entryOf(construct);
    let value: unknown = template.Resources?.[this.logicalId(construct)]?.Properties ?? null;
    for (const key of path) value = (value as Record<string, unknown> | null)?.[key];
    if (value === undefined || value === null)
      throw new UnresolvableError(`${construct.node.path}: no ${path.join('.')}`);
    return this.resolve(construct, value) as PolicyDocument;
  }

  /** The bucket policy of a bucket, from its AWS::S3::BucketPolicy. */
  bucketPolicy(bucket: IConstruct): PolicyDocument {
    const entry = this.entryOf(bucket);
    const logicalId = this.logicalId(bucket);
    const found = Object.values(entry.template.Resources ?? {}).find(
      (r) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        (r.Properties?.Bucket as { Ref?: string } | undefined)?.Ref === logicalId,
    );
    if (!found) throw new UnresolvableError(`${bucket.node.path}: no bucket policy`);
    return this.resolve(bucket, found.Properties?.PolicyDocument ?? null) as PolicyDocument;
  }

  /** Every identity policy of a role: the inline policies and customer managed policies attached to it. */
  identityPolicies(role: IConstruct): { name: string; policy: PolicyDocument }[] {
    const entry = this.entryOf(role);
    const logicalId = this.logicalId(role);
    return Object.entries(entry.template.Resources ?? {})
      .filter(
        ([, r]) =>
          (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') &&
          ((r.Properties?.Roles as { Ref?: string }[] | undefined) ?? []).some(
            (ref) => ref.Ref === logicalId,
          ),
      )
      .map(([id, r]) => ({
        name: id,
        policy: entry.resolver.resolve(
          r.Properties?.PolicyDocument ?? null,
          `${entry.stack.stackName} ${id}`,
        ) as PolicyDocument,
      }));
  }

  /** Any value of the template of the stack `within` belongs to, resolved as that stack would. */
  resolve(within: IConstruct, value: unknown): JsonValue {
    return this.entryOf(within).resolver.resolve(value, within.node.path);
  }

  /** An export is resolved in the stack that exports it, where its intrinsics refer. */
  private importValue(exportName: string): JsonValue {
    const exported = this.exports.get(exportName);
    if (!exported) throw new UnresolvableIntrinsicError(`no stack exports ${exportName}`);
    const { from, value } = exported;
    return from.resolver.resolve(value, `${from.stack.stackName} export ${exportName}`);
  }

  private logicalId(construct: IConstruct): string {
    const resource = (construct.node.defaultChild ?? construct) as CfnResource;
    return this.entryOf(construct).stack.getLogicalId(resource);
  }

  private entryOf(construct: IConstruct): StackTemplate {
    const entry = this.entries.find(({ stack }) => construct.node.scopes.includes(stack));
    if (!entry) throw new UnresolvableError(`${construct.node.path} is in none of the AOR stacks`);
    return entry;
  }
}
