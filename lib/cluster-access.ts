import * as eks from 'aws-cdk-lib/aws-eks';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * The Kubernetes groups AOR's task roles are in, inside the clusters they act on. Each group's
 * permissions are Kubernetes RBAC the deployer applies (deploy/rbac/<group>.yaml): EKS access
 * policies are fixed sets, and each one that lets a task write workloads (AmazonEKSEditPolicy,
 * AmazonEKSAdminPolicy) also reads Secrets and execs into pods, in whichever scope it is given.
 */
export const CLUSTER_GROUPS = {
  /** The DR step task in the DR cluster: its namespace and the `-drill` twin. */
  disasterRecovery: 'aor:disaster-recovery',
  /** The incident action task in the primary cluster: the platform namespace. */
  incidentActions: 'aor:incident-actions',
} as const;

/**
 * An access entry that authenticates the role into the cluster as a member of one group and
 * authorizes nothing itself: no access policy is associated, so the role can do exactly what the
 * group's RBAC bindings grant (EKS does not check that they exist: until the deployer applies
 * them, the role can do nothing).
 */
export function clusterGroupAccess(
  scope: Construct,
  id: string,
  props: { clusterName: string; role: iam.IRole; group: string },
): eks.CfnAccessEntry {
  return new eks.CfnAccessEntry(scope, id, {
    clusterName: props.clusterName,
    principalArn: props.role.roleArn,
    type: 'STANDARD',
    kubernetesGroups: [props.group],
  });
}
