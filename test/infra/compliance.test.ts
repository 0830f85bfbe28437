import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { findCommercialPartitionArns } from '../../lib/partition-check';
import { type SynthesizedAor, synthAor } from '../support/app';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every cdk-nag acknowledgement in the app, read back from construct metadata. */
function acknowledgements(synthesized: SynthesizedAor): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const construct of synthesized.app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id, reason });
      }
    }
  }
  return found;
}

describe('compliance gate: cdk-nag AwsSolutions + NIST 800-53 rev 5', () => {
  let synthesized: SynthesizedAor;
  beforeAll(() => {
    synthesized = synthAor();
  });

  it('synthesizes the whole app with no unacknowledged finding', () => {
    const report = JSON.parse(readFileSync(path.join(synthesized.outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it('gives every acknowledgement a specific reason', () => {
    const acks = acknowledgements(synthesized);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(40);
      expect(ack.reason, `${ack.path} ${ack.id}`).not.toMatch(/^(n\/a|todo|tbd|ok|not needed|suppress)/i);
    }
  });

  it('fails the synth when a finding is introduced', () => {
    expect(() =>
      synthAor({
        mutate: ({ incidentResponse }) => {
          new sns.Topic(incidentResponse, 'UnencryptedTopic');
        },
      }),
    ).toThrow(/NIST.800.53.R5-SNSEncryptedKMS/);
  });
});

describe('partition check', () => {
  it('finds no literal commercial-partition ARN in any synthesized template', () => {
    const synthesized = synthAor();
    const templates = readdirSync(synthesized.outdir).filter((file) => file.endsWith('.template.json'));
    expect(templates).toHaveLength(4);
    for (const file of templates) {
      const template = JSON.parse(readFileSync(path.join(synthesized.outdir, file), 'utf8'));
      expect(findCommercialPartitionArns(template), file).toEqual([]);
    }
  });

  it('reports where a literal commercial-partition ARN is', () => {
    const template = {
      Resources: {
        Policy: { Properties: { Resource: ['arn:aws-us-gov:s3:::fine', 'arn:aws:s3:::commercial'] } },
      },
    };
    expect(findCommercialPartitionArns(template)).toEqual(['$.Resources.Policy.Properties.Resource[1]']);
  });
});
