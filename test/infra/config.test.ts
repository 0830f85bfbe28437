import { describe, expect, it } from 'vitest';
import { InvalidConfigError, NOTIFICATION_CHANNELS, parseAorConfig } from '../../lib/config';
import { exampleContext } from '../support/app';

function parseError(raw: unknown): InvalidConfigError {
  try {
    parseAorConfig(raw);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('AOR configuration', () => {
  it('accepts the example context of cdk.json and fills the GovCloud defaults', () => {
    const context = exampleContext();
    delete context.primaryRegion;
    delete context.drRegion;
    delete context.kubernetesNamespace;
    const config = parseAorConfig(context);
    expect(config.primaryRegion).toBe('us-gov-west-1');
    expect(config.drRegion).toBe('us-gov-east-1');
    expect(config.kubernetesNamespace).toBe('phoenix-rooivalk');
    expect(Object.keys(config.notifications).sort()).toEqual([...NOTIFICATION_CHANNELS].sort());
  });

  it('accepts the context as a JSON string, as `cdk synth -c aor=…` passes it', () => {
    expect(parseAorConfig(JSON.stringify(exampleContext())).account).toBe('111122223333');
  });

  it.each([
    ['a missing context', undefined, 'aor: missing'],
    ['a context that is not JSON', '{account:', 'aor: a -c value must be JSON'],
    ['a short account id', { account: '1234' }, 'aor.account: must be a 12-digit AWS account id'],
    ['a commercial region', { primaryRegion: 'us-east-1' }, 'aor.primaryRegion'],
    [
      'the same region twice',
      { drRegion: 'us-gov-west-1' },
      'aor.drRegion: must differ from aor.primaryRegion',
    ],
    [
      'a bad hosted zone id',
      { routing: { hostedZoneId: 'zone', recordName: 'a.b.mil' } },
      'aor.routing.hostedZoneId',
    ],
    ['an unknown key', { colour: 'blue' }, 'aor: Unrecognized key: "colour"'],
    [
      'a bad bucket name',
      { backupBucketName: 'Backups_Bucket' },
      'aor.backupBucketName: must be an S3 bucket name',
    ],
    [
      'a ledger retention shorter than an auditor’s year',
      { ledgerRetentionDays: 30 },
      "aor.ledgerRetentionDays: at least 365 days: an auditor's year",
    ],
  ])('rejects %s and names the key', (_case, change, expected) => {
    const raw =
      change === undefined || typeof change === 'string' ? change : { ...exampleContext(), ...change };
    expect(parseError(raw).message).toContain(expected);
  });

  it('names nested keys: a site without an EKS cluster and a channel with a bad email', () => {
    const context = exampleContext() as {
      dr: Record<string, unknown>;
      notifications: Record<string, unknown>;
    };
    delete context.dr.eksClusterName;
    context.notifications['security-team'] = { emails: ['not-an-email'] };
    const error = parseError(context);
    expect(error.problems).toContain(
      'aor.dr.eksClusterName: Invalid input: expected string, received undefined',
    );
    expect(error.problems.some((p) => p.startsWith('aor.notifications.security-team.emails.0:'))).toBe(true);
  });

  it('requires every notification channel of the playbooks', () => {
    const context = exampleContext() as { notifications: Record<string, unknown> };
    delete context.notifications.leadership;
    expect(parseError(context).problems.join('\n')).toContain('aor.notifications.leadership');
  });

  it('fails traffic over by default, which needs the primary target; an upsert does not', () => {
    const context = exampleContext() as { routing: Record<string, unknown> };
    const { hostedZoneId, recordName, drTarget } = context.routing;
    const routing = { hostedZoneId, recordName, drTarget };
    expect(parseError({ ...context, routing }).problems).toEqual([
      'aor.routing.primaryTarget: required in failover mode: the PRIMARY failover record answers it until a DR run',
    ]);
    expect(parseAorConfig({ ...context, routing: { ...routing, mode: 'upsert' } }).routing).toEqual({
      ...routing,
      mode: 'upsert',
      ttlSeconds: 60,
    });
  });

  it('keeps the routing TTL within what the VPC resolver honours', () => {
    const context = exampleContext() as { routing: Record<string, unknown> };
    context.routing.ttlSeconds = 3600;
    expect(parseError(context).problems).toEqual([
      'aor.routing.ttlSeconds: at most 300: the VPC resolver caps longer TTLs',
    ]);
  });

  it('requires private subnets in two availability zones for the Lambda tasks', () => {
    const context = exampleContext() as { primary: { network: { privateSubnetIds: string[] } } };
    context.primary.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60011'];
    expect(parseError(context).message).toContain(
      'aor.primary.network.privateSubnetIds: at least two private subnets',
    );
  });

  it('recovers the database by promoting the standby unless told otherwise, which then needs one', () => {
    const context = exampleContext() as { disasterRecovery: Record<string, unknown> };
    expect(parseAorConfig(context).disasterRecovery).toMatchObject({
      recoveryMode: 'warm-standby',
      standbyReplica: 'phoenix-rooivalk-dr-replica',
    });
    delete context.disasterRecovery.recoveryMode;
    delete context.disasterRecovery.standbyReplica;
    expect(parseError(context).problems).toEqual([
      'aor.disasterRecovery.standbyReplica: required in warm-standby mode (the read replica of primary.database that a run promotes); or set recoveryMode to "snapshot"',
    ]);
    context.disasterRecovery.recoveryMode = 'snapshot';
    expect(parseAorConfig(context).disasterRecovery.standbyReplica).toBeUndefined();
  });

  it.each([
    ['the restore target', 'phoenix-rooivalk-dr'],
    ['the restore target’s drill twin', 'Phoenix-Rooivalk-DR-drill'],
  ])(
    'keeps the standby’s name apart from %s, and within RDS’s rules with room for its twin',
    (_case, name) => {
      const context = exampleContext() as { disasterRecovery: Record<string, unknown> };
      context.disasterRecovery.standbyReplica = name;
      expect(parseError(context).problems).toEqual([
        `aor.disasterRecovery.standbyReplica: ${name} must differ from dr.database (phoenix-rooivalk-dr) and both their -drill twins`,
      ]);
      context.disasterRecovery.standbyReplica = `phoenix--${'r'.repeat(60)}`;
      expect(parseError(context).message).toContain('aor.disasterRecovery.standbyReplica: an RDS identifier');
    },
  );
});
