import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, Checksum, QueryParameterBag, SourceData } from '@smithy/types';
import { ClusterNotActiveError } from './errors';
import type { KubernetesConnection } from './kubernetes-transport';

/** Prefix aws-iam-authenticator expects in front of the base64url presigned URL. */
const TOKEN_PREFIX = 'k8s-aws-v1.';
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/**
 * X-Amz-Expires as `aws eks get-token` sends it. STS ignores it for this purpose: aws-iam-authenticator
 * (pkg/token/token.go) accepts a token for 15 minutes after its X-Amz-Date and only checks that this value
 * lies between 0 and 900.
 */
const PRESIGN_EXPIRES_SECONDS = 60;
const TOKEN_LIFETIME_MS = 15 * 60_000;
/**
 * A token is reused for 10 of its 15 minutes. Minting is local (no network) but every new token is a new
 * identity the cluster's authenticator has to verify against STS; reusing one, as kubectl does until the
 * ExecCredential's expirationTimestamp, keeps a polling loop from sending a fresh one every few seconds.
 * The 5 minutes left cover clock skew between Lambda and the authenticator and a long request in flight.
 */
const TOKEN_REUSE_MS = 10 * 60_000;

/**
 * The STS host a token is presigned for, following STS's endpoint rules
 * (@aws-sdk/client-sts 3.1169, dist-es/endpoint/bdd.js): regional `sts.{region}.amazonaws.com`; with FIPS,
 * `sts-fips.{region}.amazonaws.com` — except in GovCloud (`PartitionResult#name == "aws-us-gov"`), whose
 * regional STS endpoints are the FIPS endpoints, so FIPS and non-FIPS are both `sts.us-gov-west-1.amazonaws.com`.
 * aws-iam-authenticator only accepts hosts from the partition's STS endpoint list, which these are.
 */
export function stsHostname(region: string, useFipsEndpoint: boolean): string {
  if (/^us-gov-\w+-\d+$/.test(region)) return `sts.${region}.amazonaws.com`;
  if (!/^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/.test(region)) {
    throw new Error(
      `No STS endpoint rule in AOR for region ${region} (only the aws and aws-us-gov partitions)`,
    );
  }
  return useFipsEndpoint ? `sts-fips.${region}.amazonaws.com` : `sts.${region}.amazonaws.com`;
}

/** RFC 3986 query encoding, the one SigV4 canonicalises with. */
function encodeQuery(query: QueryParameterBag): string {
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(query)
    .flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) =>
        v === null ? encode(key) : `${encode(key)}=${encode(v)}`,
      ),
    )
    .join('&');
}

export interface EksToken {
  token: string;
  /** Epoch ms after which the cluster rejects the token. */
  expiresAt: number;
}

export interface EksTokenRequest {
  clusterName: string;
  region: string;
  useFipsEndpoint: boolean;
  credentials: AwsCredentialIdentityProvider;
  /** Epoch ms used as X-Amz-Date. */
  now: number;
}

/**
 * What `aws eks get-token` prints: a SigV4-presigned STS GetCallerIdentity URL, with the cluster name signed in
 * as the `x-k8s-aws-id` header so the token is useless against any other cluster.
 */
export async function createEksToken(request: EksTokenRequest): Promise<EksToken> {
  const hostname = stsHostname(request.region, request.useFipsEndpoint);
  const signer = new SignatureV4({
    service: 'sts',
    region: request.region,
    credentials: request.credentials,
    sha256: NodeSha256,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: request.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: new Date(request.now) },
  );
  const url = `https://${hostname}/?${encodeQuery(presigned.query ?? {})}`;
  return {
    token: TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: request.now + TOKEN_LIFETIME_MS,
  };
}

export interface EksAccessOptions {
  region: string;
  /** Also decides the STS host of the token; set from AWS_USE_FIPS_ENDPOINT in GovCloud. */
  useFipsEndpoint: boolean;
  /** Defaults to the credential chain the EKS client resolves (the SDK's Node provider chain). */
  credentials?: AwsCredentialIdentityProvider;
  /** Epoch ms; injectable to test token reuse. */
  now?: () => number;
}

/**
 * Connections to EKS clusters in one region. Keep one per Lambda container: it holds each cluster's current
 * token, and every request made through its connections asks it for one, so a long wait inside one invocation
 * or a warm container reused for an hour never sends an expired token.
 */
export class EksConnectionFactory {
  private readonly eks: EKSClient;
  private readonly credentials: AwsCredentialIdentityProvider;
  private readonly now: () => number;
  private readonly tokens = new Map<string, EksToken>();

  constructor(private readonly options: EksAccessOptions) {
    this.eks = new EKSClient({
      region: options.region,
      useFipsEndpoint: options.useFipsEndpoint,
      credentials: options.credentials,
    });
    this.credentials = options.credentials ?? this.eks.config.credentials;
    this.now = options.now ?? Date.now;
  }

  /**
   * Looks the cluster up on every call rather than caching endpoint and CA: a DR cluster may have been
   * recreated since, and a cluster that is not ACTIVE must stop the caller before it touches the API.
   */
  async connection(clusterName: string): Promise<KubernetesConnection> {
    const { cluster } = await this.eks.send(new DescribeClusterCommand({ name: clusterName }));
    const status = cluster?.status ?? 'UNKNOWN';
    const endpoint = cluster?.endpoint;
    const certificateAuthority = cluster?.certificateAuthority?.data;
    if (status !== 'ACTIVE' || !endpoint || !certificateAuthority) {
      throw new ClusterNotActiveError(
        `EKS cluster ${clusterName} is ${status}, not ACTIVE with an API endpoint`,
      );
    }
    return {
      server: endpoint,
      // DescribeCluster gives the CA bundle as base64 of its PEM.
      ca: Buffer.from(certificateAuthority, 'base64').toString('utf8'),
      token: () => this.token(clusterName),
    };
  }

  /** The cluster's cached token, minted anew once it has been in use for TOKEN_REUSE_MS. */
  async token(clusterName: string): Promise<string> {
    const now = this.now();
    const cached = this.tokens.get(clusterName);
    if (cached && now < cached.expiresAt - TOKEN_LIFETIME_MS + TOKEN_REUSE_MS) return cached.token;
    const fresh = await createEksToken({
      clusterName,
      region: this.options.region,
      useFipsEndpoint: this.options.useFipsEndpoint,
      credentials: this.credentials,
      now,
    });
    this.tokens.set(clusterName, fresh);
    return fresh.token;
  }
}

/**
 * SHA-256 for the SigV4 signer from node:crypto: a plain hash, or an HMAC when the signer passes a
 * key (it derives the signing key with HMACs).
 */
class NodeSha256 implements Checksum {
  private readonly hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    throw new Error('NodeSha256 is single-use');
  }
}

function bytes(data: SourceData): Uint8Array | string {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}
