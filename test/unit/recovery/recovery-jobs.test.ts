import { describe, expect, it } from 'vitest';
import type { KubernetesManifest } from '../../../lambdas/core/operations/cluster';
import { RECOVERY_RUN_LABEL, recoveryPlan } from '../../../lambdas/core/recovery/recovery';
import {
  blockchainRestoreJob,
  isDigestPinned,
  labelledForRun,
  restoreVolumeClaim,
  UnpinnedImageError,
} from '../../../lambdas/core/recovery/recovery-manifests';
import { RecoveryValidationFailedError } from '../../../lambdas/core/recovery/recovery-service';
import {
  endpointCheckJob,
  integrityCheckJob,
  integrityStatement,
} from '../../../lambdas/core/recovery/validation';
import { recoverySettings } from '../../../lib/constructs/disaster-recovery-workflow';
import { exampleConfig } from '../../support/app';

/** The DR run's Jobs as its builders write them: what each runs, as whom, with what. */

const settings = recoverySettings(exampleConfig());
const runId = 'DR-20261123T040000Z-drill1';
const runIn = (mode: 'snapshot' | 'warm-standby') => ({
  runId,
  plan: recoveryPlan(
    runId,
    { drSite: 'us-gov-east-1', recoveryType: 'full', backupDate: 'latest', dryRun: true, mode },
    settings,
  ),
});
/** A snapshot restore: its data is the manifest's day, exactly. */
const run = runIn('snapshot');
const backup = {
  bucket: 'phoenix-rooivalk-backups',
  prefix: 'blockchain/2026-11-23/',
  objects: 4,
  bytes: 1,
  takenAt: '2026-11-23T03:00:00.000Z',
};
const manifest = {
  day: '2026-11-23',
  tables: { sensor_tracks: { rows: 18_406_551, checksum: 'ab12' }, operators: { rows: 212 } },
};
const target = { endpoint: 'phoenix-rooivalk-dr-drill.abc.us-gov-east-1.rds.amazonaws.com', manifest };

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    serviceAccountName?: string;
    automountServiceAccountToken: boolean;
    containers: {
      image: string;
      command: string[];
      args?: string[];
      env?: { name: string; value?: string; valueFrom?: unknown }[];
    }[];
  };
}

function podOf(job: KubernetesManifest): PodTemplate {
  return (job.spec as { template: PodTemplate }).template;
}

function containerOf(job: KubernetesManifest) {
  const [container] = podOf(job).spec.containers;
  if (!container) throw new Error('no container');
  return container;
}

describe('isDigestPinned', () => {
  it.each([
    ['111122223333.dkr.ecr.us-gov-east-1.amazonaws.com/mirror/aws-cli@sha256:' + 'a'.repeat(64), true],
    ['registry.local:5000/curl:8.11.1@sha256:' + '0'.repeat(64), true],
    ['public.ecr.aws/aws-cli/aws-cli:2.22.35', false],
    ['postgres', false],
    ['postgres@sha256:' + 'a'.repeat(63), false],
    ['postgres@sha256:' + 'A'.repeat(64), false],
    ['postgres@sha512:' + 'a'.repeat(64), false],
  ])('%s: %s', (image, pinned) => {
    expect(isDigestPinned(image)).toBe(pinned);
  });
});

describe('the blockchain restore Job', () => {
  const job = blockchainRestoreJob(run, backup, settings);

  it('runs `aws s3 sync` of the day’s prefix into the claim, spelled out as its command', () => {
    expect(containerOf(job).command).toEqual([
      'aws',
      's3',
      'sync',
      's3://phoenix-rooivalk-backups/blockchain/2026-11-23/',
      '/data/',
      '--only-show-errors',
    ]);
    expect(containerOf(job).args).toBeUndefined();
    expect(containerOf(job).image).toBe(settings.jobs.restore.image);
  });

  it('runs as the restore service account (IRSA), in the DR region, through FIPS endpoints', () => {
    expect(podOf(job).spec.serviceAccountName).toBe(settings.jobs.restore.serviceAccount);
    expect(podOf(job).spec.automountServiceAccountToken).toBe(false);
    expect(containerOf(job).env).toEqual([
      { name: 'AWS_REGION', value: 'us-gov-east-1' },
      { name: 'AWS_USE_FIPS_ENDPOINT', value: 'true' },
    ]);
  });

  it('stops itself at its active deadline, and carries the run’s label on the Job and its pods', () => {
    expect(job.spec).toMatchObject({
      backoffLimit: 2,
      activeDeadlineSeconds: settings.jobs.restore.activeDeadlineSeconds,
    });
    expect(job.metadata).toMatchObject({
      namespace: 'phoenix-rooivalk-drill',
      labels: { [RECOVERY_RUN_LABEL]: runId },
    });
    expect(podOf(job).metadata.labels).toEqual({ [RECOVERY_RUN_LABEL]: runId });
  });

  it('refuses an image given by tag: UnpinnedImageError', () => {
    const tagged = {
      ...settings,
      jobs: { ...settings.jobs, restore: { ...settings.jobs.restore, image: 'amazon/aws-cli:2.22.35' } },
    };
    expect(() => blockchainRestoreJob(run, backup, tagged)).toThrow(UnpinnedImageError);
  });
});

describe('what the run labels as its own', () => {
  it('the restore volume claim, and every configured manifest, in the run’s namespace', () => {
    expect(restoreVolumeClaim(run, settings)).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'blockchain-data-restore-drill',
        namespace: 'phoenix-rooivalk-drill',
        labels: { [RECOVERY_RUN_LABEL]: runId },
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'gp3-encrypted',
        resources: { requests: { storage: '500Gi' } },
      },
    });
    for (const configured of settings.manifests) {
      expect(labelledForRun(run, configured).metadata).toMatchObject({
        namespace: 'phoenix-rooivalk-drill',
        labels: { [RECOVERY_RUN_LABEL]: runId },
      });
    }
  });
});

describe('the endpoint check Job', () => {
  const job = endpointCheckJob(run, settings);

  it('runs curl itself (not as arguments of another image’s entrypoint), failing on an error status', () => {
    expect(containerOf(job).command).toEqual(['curl']);
    expect(containerOf(job).args).toEqual([
      '--fail',
      '--silent',
      '--show-error',
      '--max-time',
      '10',
      '--output',
      '/dev/null',
      'http://blockchain-service:9090/health',
    ]);
    expect(containerOf(job).image).toBe(settings.jobs.endpointCheck.image);
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 });
  });
});

describe('the integrity check Job', () => {
  const job = integrityCheckJob(run, target, settings);

  it('runs psql with one statement, against the restored database', () => {
    expect(containerOf(job).command).toEqual(['psql']);
    expect(containerOf(job).args?.slice(0, 3)).toEqual(['--no-psqlrc', '--quiet', '--command']);
    expect(containerOf(job).args?.[3]).toBe(
      integrityStatement('row-counts', { sensor_tracks: 18_406_551, operators: 212 }),
    );
    expect(containerOf(job).image).toBe(settings.jobs.integrityCheck.image);
  });

  it('takes the database credentials from the Secret by reference: no literal credential in the spec', () => {
    const env = containerOf(job).env ?? [];
    expect(env.filter((variable) => variable.valueFrom)).toEqual([
      {
        name: 'PGUSER',
        valueFrom: { secretKeyRef: { name: 'aor-integrity-check', key: 'username' } },
      },
      {
        name: 'PGPASSWORD',
        valueFrom: { secretKeyRef: { name: 'aor-integrity-check', key: 'password' } },
      },
    ]);
    expect(env.filter((variable) => !variable.valueFrom).map((variable) => variable.name)).toEqual([
      'PGHOST',
      'PGPORT',
      'PGDATABASE',
      'PGSSLMODE',
      'PGCONNECT_TIMEOUT',
    ]);
    expect(env.find((variable) => variable.name === 'PGHOST')?.value).toBe(target.endpoint);
  });

  it('measures with count(*), or the sorted rows’ md5 for checksums, raising when a table differs', () => {
    const rows = integrityStatement('row-counts', { operators: 212 });
    expect(rows).toContain('expected jsonb := $aor_expected${"operators":212}$aor_expected$;');
    expect(rows).toContain('$aor_measure$SELECT to_jsonb(count(*)) FROM %s$aor_measure$');
    expect(rows).toContain("RAISE EXCEPTION 'row-counts differ from the integrity manifest: %'");
    expect(rows).toContain('IF actual IS DISTINCT FROM item.value THEN');
    expect(rows).toMatch(/^DO \$aor_check\$[\s\S]*\$aor_check\$$/);
    const sums = integrityCheckJob(run, target, {
      ...settings,
      validation: { ...settings.validation, integrity: 'checksums' },
    });
    expect(containerOf(sums).args?.[3]).toContain('{"sensor_tracks":"ab12"}');
    expect(containerOf(sums).args?.[3]).toContain(
      "md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))",
    );
  });

  it('checks a promoted standby, newer than the manifest, for at least its rows: never a checksum', () => {
    const standby = runIn('warm-standby');
    const checksums = {
      ...settings,
      validation: { ...settings.validation, integrity: 'checksums' as const },
    };
    const statement = containerOf(integrityCheckJob(standby, target, checksums)).args?.[3];
    expect(statement).toBe(
      integrityStatement('row-counts', { sensor_tracks: 18_406_551, operators: 212 }, 'at-least'),
    );
    expect(statement).toContain('IF actual IS NULL OR actual::numeric < item.value::numeric THEN');
    expect(statement).toContain("RAISE EXCEPTION 'row-counts fall short of the integrity manifest: %'");
    expect(statement).not.toContain('IS DISTINCT FROM');
    expect(() => integrityStatement('checksums', { operators: 'ab' }, 'at-least')).toThrow(
      RecoveryValidationFailedError,
    );
  });

  it('never puts a table name it would not query into SQL, nor checks a manifest with nothing to compare', () => {
    const hostile = { day: '2026-11-23', tables: { 'x$aor_check$; DROP TABLE operators; --': { rows: 1 } } };
    expect(() => integrityCheckJob(run, { ...target, manifest: hostile }, settings)).toThrow(
      RecoveryValidationFailedError,
    );
    const empty = { day: '2026-11-23', tables: { operators: { checksum: 'ab' } } };
    expect(() => integrityCheckJob(run, { ...target, manifest: empty }, settings)).toThrow(
      "the integrity manifest of 2026-11-23 lists no table's rows",
    );
  });
});
