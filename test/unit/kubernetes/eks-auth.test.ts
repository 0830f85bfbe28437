import { createHash, createHmac } from 'node:crypto';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createEksToken,
  EksConnectionFactory,
  stsHostname,
} from '../../../lambdas/adapters/kubernetes/eks-auth';
import { ClusterNotActiveError } from '../../../lambdas/adapters/kubernetes/errors';

const CREDENTIALS = {
  accessKeyId: 'ASIAEXAMPLEAOR',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjE/session+token==',
};
const NOW = Date.parse('2026-11-05T10:00:00Z');

/** What aws-iam-authenticator's verifier (pkg/token/token.go) allows in the URL; anything else is rejected. */
const AUTHENTICATOR_QUERY_WHITELIST = [
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
];

function decodeToken(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const encoded = token.slice('k8s-aws-v1.'.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

/** SigV4 query signing written out from the AWS documentation, as an oracle independent of @smithy/signature-v4. */
function expectedSignature(url: URL, clusterName: string, region: string): string {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const params = [...url.searchParams].filter(([key]) => key !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([key, value]) => `${encode(key)}=${encode(value)}`)
    .sort()
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${url.host}\nx-k8s-aws-id:${clusterName}\n`,
    'host;x-k8s-aws-id',
    sha256(''),
  ].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, day), region), 'sts'),
    'aws4_request',
  );
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

describe('stsHostname', () => {
  const sts = new STSClient({ region: 'us-gov-west-1' });

  it.each([
    ['us-gov-west-1', false],
    ['us-gov-west-1', true],
    ['us-gov-east-1', true],
    ['us-east-1', false],
    ['us-east-1', true],
    ['eu-west-1', true],
  ])('%s with FIPS=%s matches the STS client endpoint rules', (region, useFips) => {
    const { url } = sts.config.endpointProvider({
      Region: region,
      UseFIPS: useFips,
      UseDualStack: false,
      UseGlobalEndpoint: false,
    });

    expect(stsHostname(region, useFips)).toBe(url.hostname);
  });

  it('is the same regional host for GovCloud with and without FIPS', () => {
    expect(stsHostname('us-gov-west-1', true)).toBe('sts.us-gov-west-1.amazonaws.com');
  });

  it('refuses partitions it has no rule for', () => {
    expect(() => stsHostname('cn-north-1', false)).toThrow('No STS endpoint rule');
  });
});

describe('createEksToken', () => {
  it('is a presigned, cluster-bound STS GetCallerIdentity URL as aws eks get-token makes it', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'phoenix-rooivalk',
      region: 'us-gov-west-1',
      useFipsEndpoint: true,
      credentials: async () => CREDENTIALS,
      now: NOW,
    });

    const url = decodeToken(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.us-gov-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'ASIAEXAMPLEAOR/20261105/us-gov-west-1/sts/aws4_request',
      'X-Amz-Date': '20261105T100000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    for (const key of url.searchParams.keys())
      expect(AUTHENTICATOR_QUERY_WHITELIST).toContain(key.toLowerCase());
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, 'phoenix-rooivalk', 'us-gov-west-1'),
    );
    expect(expiresAt).toBe(NOW + 15 * 60_000);
  });

  it('binds the token to its cluster: another cluster name gives another signature', async () => {
    const request = {
      region: 'us-gov-west-1',
      useFipsEndpoint: false,
      credentials: async () => CREDENTIALS,
      now: NOW,
    };

    const primary = decodeToken(
      (await createEksToken({ ...request, clusterName: 'phoenix-rooivalk' })).token,
    );
    const dr = decodeToken((await createEksToken({ ...request, clusterName: 'phoenix-rooivalk-dr' })).token);

    expect(dr.searchParams.get('X-Amz-Signature')).not.toBe(primary.searchParams.get('X-Amz-Signature'));
    expect(dr.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(dr, 'phoenix-rooivalk-dr', 'us-gov-west-1'),
    );
  });
});

describe('EksConnectionFactory', () => {
  const eks = mockClient(EKSClient);
  const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIC…\n-----END CERTIFICATE-----\n';
  const CA = Buffer.from(CA_PEM).toString('base64');
  const ENDPOINT = 'https://0123456789ABCDEF.gr7.us-gov-west-1.eks.amazonaws.com';
  let now: number;
  let credentials: ReturnType<typeof vi.fn<() => Promise<typeof CREDENTIALS>>>;
  let factory: EksConnectionFactory;

  beforeEach(() => {
    eks.reset();
    now = NOW;
    credentials = vi.fn(async () => CREDENTIALS);
    factory = new EksConnectionFactory({
      region: 'us-gov-west-1',
      useFipsEndpoint: true,
      credentials,
      now: () => now,
    });
  });

  afterEach(() => {
    eks.reset();
  });

  it('builds a connection from DescribeCluster: the endpoint, its CA as PEM, and an EKS token', async () => {
    eks.on(DescribeClusterCommand).resolves({
      cluster: {
        name: 'phoenix-rooivalk-dr',
        status: 'ACTIVE',
        endpoint: ENDPOINT,
        certificateAuthority: { data: CA },
      },
    });

    const connection = await factory.connection('phoenix-rooivalk-dr');

    expect(eks).toHaveReceivedCommandWith(DescribeClusterCommand, { name: 'phoenix-rooivalk-dr' });
    expect(connection).toMatchObject({ server: ENDPOINT, ca: CA_PEM });
    const url = decodeToken(await connection.token());
    expect(url.host).toBe('sts.us-gov-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, 'phoenix-rooivalk-dr', 'us-gov-west-1'),
    );
  });

  it('reuses a token for 10 minutes, then mints a new one', async () => {
    eks.on(DescribeClusterCommand).resolves({
      cluster: { status: 'ACTIVE', endpoint: ENDPOINT, certificateAuthority: { data: CA } },
    });
    const connection = await factory.connection('phoenix-rooivalk');

    const first = await connection.token();
    now += 10 * 60_000 - 1;
    const sameToken = await connection.token();
    now += 1;
    const nextToken = await connection.token();

    expect(sameToken).toBe(first);
    expect(nextToken).not.toBe(first);
    expect(decodeToken(nextToken).searchParams.get('X-Amz-Date')).toBe('20261105T101000Z');
    expect(credentials).toHaveBeenCalledTimes(2);
  });

  it.each(['CREATING', 'UPDATING', 'FAILED'])(
    'rejects a %s cluster with ClusterNotActiveError',
    async (status) => {
      eks.on(DescribeClusterCommand).resolves({
        cluster: { status: status as 'CREATING', endpoint: ENDPOINT, certificateAuthority: { data: CA } },
      });

      const error = await factory.connection('phoenix-rooivalk-dr').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ClusterNotActiveError);
      expect(error).toMatchObject({
        name: 'ClusterNotActiveError',
        message: `EKS cluster phoenix-rooivalk-dr is ${status}, not ACTIVE with an API endpoint`,
      });
    },
  );
});
