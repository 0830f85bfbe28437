import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EvidenceAlreadyExistsError,
  InvalidEvidenceKeyError,
} from '../../../lambdas/adapters/aws/s3-evidence-store';
import { UnknownChannelError } from '../../../lambdas/adapters/aws/sns-notifier';
import { NOTIFICATION_CHANNELS } from '../../../lib/config';
import { S3_PUT_MS, SNS_PUBLISH_MS } from '../../../local/simulation/durations';
import { phoenixRooivalk, thrown } from './fixtures';

describe('simulated SNS', () => {
  it('publishes to each of the six channels into an outbox the caller can read back', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const ids: string[] = [];
    for (const channel of NOTIFICATION_CHANNELS) {
      ids.push(
        await ports.notifier.publish(channel, {
          subject: `[HIGH] INC-20261102-0001 Blockchain node down — ${channel}`,
          message: 'blockchain-node-1 is not ready',
          attributes: { incidentId: 'INC-20261102-0001', severity: 'HIGH', runbook: '' },
        }),
      );
    }
    expect(clock.now() - platform.epoch).toBe(NOTIFICATION_CHANNELS.length * SNS_PUBLISH_MS);
    expect(new Set(ids).size).toBe(NOTIFICATION_CHANNELS.length);
    expect(
      ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
    expect(platform.outbox().map((message) => message.channel)).toEqual([...NOTIFICATION_CHANNELS]);
    const [leadership] = platform.outbox('leadership');
    expect(leadership).toEqual({
      messageId: ids.at(-1),
      channel: 'leadership',
      // As SNS delivers it: printable ASCII only.
      subject: '[HIGH] INC-20261102-0001 Blockchain node down ? leadership',
      message: 'blockchain-node-1 is not ready',
      attributes: { incidentId: 'INC-20261102-0001', severity: 'HIGH' },
      publishedAt: new Date(platform.epoch + 6 * SNS_PUBLISH_MS).toISOString(),
      time: platform.epoch + 6 * SNS_PUBLISH_MS,
    });
  });

  it('refuses a channel with no topic before sending anything', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const error = await thrown(
      ports.notifier.publish('everyone', { subject: 's', message: 'm', attributes: {} }),
    );
    expect(error).toBeInstanceOf(UnknownChannelError);
    expect(clock.now()).toBe(platform.epoch);
    expect(platform.outbox()).toEqual([]);
  });
});

describe('simulated evidence store', () => {
  const directories: string[] = [];
  afterEach(async () => {
    await Promise.all(
      directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
    );
  });

  it('stores bytes write-once and returns their SHA-256', async () => {
    const { platform, ports, clock } = phoenixRooivalk();
    const body = Buffer.from('{"pods":[]}');
    const stored = await ports.evidence.put('incidents/INC-1/forensics.json', body, 'application/json');
    expect(stored).toEqual({
      uri: 'simulated://evidence/incidents/INC-1/forensics.json',
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: body.byteLength,
    });
    expect(clock.now() - platform.epoch).toBe(S3_PUT_MS);
    expect(platform.evidence('incidents/INC-1/forensics.json')).toMatchObject({
      contentType: 'application/json',
      storedAt: platform.epoch + S3_PUT_MS,
    });
    expect(Buffer.from(platform.evidence('incidents/INC-1/forensics.json')?.body ?? []).toString()).toBe(
      '{"pods":[]}',
    );
    expect(
      await thrown(ports.evidence.put('incidents/INC-1/forensics.json', body, 'application/json')),
    ).toBeInstanceOf(EvidenceAlreadyExistsError);
    expect(await thrown(ports.evidence.put('../escape', body, 'text/plain'))).toBeInstanceOf(
      InvalidEvidenceKeyError,
    );
    expect(platform.evidenceKeys()).toEqual(['incidents/INC-1/forensics.json']);
  });

  it('writes under a directory when given one, with file:// URIs, and never overwrites a file there', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'aor-evidence-'));
    directories.push(directory);
    const first = phoenixRooivalk({ evidenceDirectory: directory });
    const stored = await first.ports.evidence.put('a/b.txt', Buffer.from('one'), 'text/plain');
    expect(stored.uri.startsWith('file://')).toBe(true);
    expect(await readFile(fileURLToPath(stored.uri), 'utf8')).toBe('one');
    // Another platform over the same directory: the file on disk still wins.
    const second = phoenixRooivalk({ evidenceDirectory: directory });
    expect(
      await thrown(second.ports.evidence.put('a/b.txt', Buffer.from('two'), 'text/plain')),
    ).toBeInstanceOf(EvidenceAlreadyExistsError);
    expect(await readFile(join(directory, 'a/b.txt'), 'utf8')).toBe('one');
  });
});
