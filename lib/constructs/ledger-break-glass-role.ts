import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { cloudFormationExecutionRoleArn } from '../cloudformation-execution-role';
import { acknowledgeFindings } from '../compliance';

/** A resource with a policy of its own: a DynamoDB table, a KMS key, an S3 bucket. */
export interface ProtectedResource {
  addToResourcePolicy(statement: iam.PolicyStatement): iam.AddToResourcePolicyResult;
}

export interface Reservation {
  /** Names the deny in the resource's policy and the matching allow in the role's policy. */
  readonly sid: string;
  readonly actions: string[];
  /** The Resource of the deny, as the resource's own policy names itself (`*` in a key policy). */
  readonly policyResources: string[];
  /** The same resources by ARN, for the role's identity policy. */
  readonly arns: string[];
  /** Narrows the deny (e.g. to some leading keys); the role is allowed the actions regardless. */
  readonly conditions?: Record<string, Record<string, unknown>>;
  /** Others who keep the actions: the principal whose job they are (the sequencer). */
  readonly alsoExempt?: string[];
  /**
   * Structural changes a deployment makes (a table's policy, a bucket's policy, a key's policy):
   * CloudFormation's execution role keeps them too, or the stack could never be updated. Deploy
   * rights are therefore as strong as break-glass for these protections; what holds even against
   * them is Object Lock (compliance mode) on the signed checkpoints and the other region's witness.
   */
  readonly deployer?: boolean;
}

/**
 * A statement for a resource policy that denies actions to every principal, administrators with
 * `*` in their identity policies included, except the principals named by ARN. `aws:PrincipalArn`
 * is the role's ARN for a role session, so an exemption holds for every session of that role only.
 */
export function denyToAllBut(
  sid: string,
  actions: string[],
  resources: string[],
  exemptPrincipalArns: string[],
  conditions: Record<string, Record<string, unknown>> = {},
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions,
    resources,
    conditions: { ...conditions, ArnNotEquals: { 'aws:PrincipalArn': exemptPrincipalArns } },
  });
}

/**
 * The ledger's break-glass role, one per ledger stack (`aor-ledger-break-glass-<region>`).
 *
 * Why it exists: the ledger's resource policies deny everyone, administrators included, what could
 * change, drop or reorder records (updating or deleting items, turning off deletion protection or
 * point-in-time recovery, disabling or deleting the keys, deleting archived checkpoints). Some day a
 * legitimate need will arise (a compromised key to disable, a retention to extend, a deliberate
 * decommissioning), and without one principal able to act the only way out would be to close the
 * account. So exactly one role keeps the reserved actions, and using it is rare, deliberate and
 * visible: only principals of this account with MFA may assume it, for an hour at most, and every
 * assumption is an `AssumeRole` event in CloudTrail naming who did it. It cannot sign a checkpoint
 * (only the sequencer can) without first rewriting the key policy, itself a logged event, and
 * Object Lock keeps every signed checkpoint even from it.
 */
export class LedgerBreakGlassRole extends Construct {
  readonly role: iam.Role;
  /**
   * The role's ARN as a plain string (its name is fixed), for the resource policies that exempt it:
   * naming it by reference would make each key depend on the role whose policy names the key.
   */
  readonly roleArn: string;
  private readonly permissions: iam.Policy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const roleName = `aor-ledger-break-glass-${stack.region}`;
    this.role = new iam.Role(this, 'Role', {
      roleName,
      description: 'AOR audit ledger: break-glass, the only role that may lift the ledger protections',
      assumedBy: new iam.AccountPrincipal(stack.account).withConditions({
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      }),
      maxSessionDuration: Duration.hours(1),
    });
    this.roleArn = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: roleName });
    this.permissions = new iam.Policy(this, 'ReservedActions', { roles: [this.role] });
    acknowledgeFindings(this.permissions, {
      'NIST.800.53.R5-IAMNoInlinePolicy':
        'The break-glass permissions are exactly the actions the ledger policies reserve to this one role; a managed policy could be attached to other principals and hand the reserved actions out.',
    });
  }

  /**
   * Reserves actions on a resource to this role: the resource's policy denies them to everyone
   * else (but `alsoExempt` and, with `deployer`, CloudFormation), and this role is allowed them.
   */
  reserve(resource: ProtectedResource, reservation: Reservation): void {
    const exempt = [
      this.roleArn,
      ...(reservation.alsoExempt ?? []),
      ...(reservation.deployer ? [cloudFormationExecutionRoleArn(Stack.of(this))] : []),
    ];
    resource.addToResourcePolicy(
      denyToAllBut(
        reservation.sid,
        reservation.actions,
        reservation.policyResources,
        exempt,
        reservation.conditions,
      ),
    );
    this.permissions.addStatements(
      new iam.PolicyStatement({
        sid: reservation.sid,
        actions: reservation.actions,
        resources: reservation.arns,
      }),
    );
  }

  /**
   * Reserves a key's life to this role: disabling it or scheduling its deletion (which would make
   * the ledger unreadable or its signatures unverifiable against a live key), plus `extraActions`;
   * its key policy may be replaced by this role and by deployments only.
   */
  reserveKeyAdministration(key: kms.IKey, sidPrefix: string, extraActions: string[] = []): void {
    this.reserve(key, {
      sid: `${sidPrefix}LifeReservedToBreakGlass`,
      actions: ['kms:DisableKey', 'kms:ScheduleKeyDeletion', ...extraActions],
      policyResources: ['*'],
      arns: [key.keyArn],
    });
    this.reserve(key, {
      sid: `${sidPrefix}PolicyReservedToBreakGlassAndDeployments`,
      actions: ['kms:PutKeyPolicy'],
      policyResources: ['*'],
      arns: [key.keyArn],
      deployer: true,
    });
  }
}
