import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';

export class SigningKeyMismatchError extends Error {
  override name = 'SigningKeyMismatchError';
}

/**
 * Signs ledger checkpoints with a KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256). The private
 * key never leaves KMS; the public key is read once so verifiers can be given it.
 */
export class KmsNoteSigner {
  private constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
    readonly keyName: string,
    readonly publicKeySpkiDer: Uint8Array,
  ) {}

  static async create(client: KMSClient, keyId: string, keyName: string): Promise<KmsNoteSigner> {
    const key = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    if (
      key.KeySpec !== 'ECC_NIST_P256' ||
      !key.SigningAlgorithms?.includes('ECDSA_SHA_256') ||
      !key.PublicKey
    ) {
      throw new SigningKeyMismatchError(
        `KMS key ${keyId} is ${key.KeySpec ?? 'unknown'}; ledger checkpoints need ECC_NIST_P256 with ECDSA_SHA_256`,
      );
    }
    return new KmsNoteSigner(client, keyId, keyName, key.PublicKey);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const result = await this.client.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (!result.Signature)
      throw new SigningKeyMismatchError(`KMS returned no signature for key ${this.keyId}`);
    return result.Signature;
  }
}
