import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_GROUPS, clusterGroupAccess } from '../../lib/cluster-access';
import { InvalidConfigError, parseAorConfig } from '../../lib/config';
import { exampleContext, type SynthesizedAor, synthAor } from '../support/app';

/**
 * The task roles' way into the clusters (an access entry per role, one Kubernetes group, no EKS
 * access policy: deploy/rbac grants the rest), and the configuration of the DR run's Jobs.
 */

let synthesized: SynthesizedAor;

function accessEntries(template: keyof SynthesizedAor['templates']) {
  return Object.values(synthesized.templates[template].findResources('AWS::EKS::AccessEntry')).map(
    (resource) => (resource as { Properties: Record<string, unknown> }).Properties,
  );
}

describe('clusterGroupAccess', () => {
  it('of the helper: the role, one group, no access policy', () => {
    const stack = new Stack(new App(), 'Helper', {
      env: { account: '111122223333', region: 'us-gov-west-1' },
    });
    const role = new iam.Role(stack, 'Task', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    clusterGroupAccess(stack, 'Access', { clusterName: 'c', role, group: 'g' });
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'c',
      Type: 'STANDARD',
      KubernetesGroups: ['g'],
      AccessPolicies: Match.absent(),
    });
  });
});

describe('EKS access entries of the synthesized stacks', () => {
  beforeAll(() => {
    synthesized = synthAor();
  });

  it('map the DR step role into the DR cluster as one group, with no access policy', () => {
    const { stacks } = synthesized;
    const role = stacks.disasterRecovery.workflow.step.role.node.defaultChild as CfnElement;
    expect(accessEntries('disasterRecovery')).toEqual([
      {
        ClusterName: 'phoenix-rooivalk-dr',
        PrincipalArn: { 'Fn::GetAtt': [stacks.disasterRecovery.getLogicalId(role), 'Arn'] },
        Type: 'STANDARD',
        KubernetesGroups: [CLUSTER_GROUPS.disasterRecovery],
      },
    ]);
  });

  it('map the incident action role into the primary cluster as one group, with no access policy', () => {
    const entries = accessEntries('incidentResponse');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      ClusterName: 'phoenix-rooivalk-production',
      Type: 'STANDARD',
      KubernetesGroups: [CLUSTER_GROUPS.incidentActions],
    });
    expect(entries[0]?.AccessPolicies).toBeUndefined();
  });

  it('associate no EKS access policy anywhere: no Admin, Edit or cluster-admin set', () => {
    for (const template of Object.values(synthesized.templates)) {
      expect(JSON.stringify(template.toJSON())).not.toMatch(/cluster-access-policy|AmazonEKS\w*Policy/);
    }
  });
});

describe('disasterRecovery.jobs', () => {
  const withJobs = (change: (jobs: Record<string, Record<string, unknown>>) => void) => {
    const context = exampleContext() as {
      disasterRecovery: { jobs: Record<string, Record<string, unknown>> };
    };
    change(context.disasterRecovery.jobs);
    return context;
  };
  const problems = (raw: unknown): string[] => {
    try {
      parseAorConfig(raw);
    } catch (error) {
      if (error instanceof InvalidConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('accepts the example’s images, pinned by digest, and fills the service account, Secret keys and port', () => {
    const { jobs } = parseAorConfig(exampleContext()).disasterRecovery;
    expect(jobs.restore).toMatchObject({
      serviceAccount: 'aor-blockchain-restore',
      activeDeadlineMinutes: 180,
    });
    expect(jobs.integrityCheck).toMatchObject({
      port: 5432,
      credentialsSecret: { name: 'aor-integrity-check', usernameKey: 'username', passwordKey: 'password' },
    });
  });

  it.each(['restore', 'endpointCheck', 'integrityCheck'])(
    'refuses a %s image given by tag, naming the key',
    (job) => {
      const context = withJobs((jobs) => {
        (jobs[job] as Record<string, unknown>).image = 'public.ecr.aws/aws-cli/aws-cli:2.22.35';
      });
      expect(problems(context)).toEqual([
        `aor.disasterRecovery.jobs.${job}.image: must be pinned by digest (<repository>@sha256:<64 hex>): a tag can be moved to other bytes`,
      ]);
    },
  );

  it('has no default for the Jobs: a deployment names its images', () => {
    const context = exampleContext() as { disasterRecovery: Record<string, unknown> };
    delete context.disasterRecovery.jobs;
    expect(problems(context)).toEqual([
      'aor.disasterRecovery.jobs: Invalid input: expected object, received undefined',
    ]);
  });

  it('refuses an application manifest of a kind the DR task’s Role does not grant', () => {
    const context = exampleContext() as { disasterRecovery: Record<string, unknown> };
    context.disasterRecovery.manifests = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'blockchain-service' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'blockchain-node' } },
    ];
    const [problem, ...rest] = problems(context);
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      /^aor\.disasterRecovery\.manifests\.1: must be one of the kinds the DR task's Role grants: v1 ConfigMap, /,
    );
  });
});
