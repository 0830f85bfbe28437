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

  it('requires private subnets in two availability zones for the Lambda tasks', () => {
    const context = exampleContext() as { primary: { network: { privateSubnetIds: string[] } } };
    context.primary.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60011'];
    expect(parseError(context).message).toContain(
      'aor.primary.network.privateSubnetIds: at least two private subnets',
    );
  });
});
