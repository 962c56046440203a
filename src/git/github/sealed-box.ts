import sodium from "libsodium-wrappers";

/**
 * Encrypts `value` for a GitHub Actions secret: a libsodium sealed box (`crypto_box_seal`) to the
 * repository's public key, both in standard base64 as GitHub's API speaks them. Only GitHub (or
 * whoever holds the private key) can open it; the plaintext is never sent.
 */
export async function sealForGithub(publicKeyBase64: string, value: string): Promise<string> {
  await sodium.ready;
  const key = sodium.from_base64(publicKeyBase64, sodium.base64_variants.ORIGINAL);
  const sealed = sodium.crypto_box_seal(sodium.from_string(value), key);
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL);
}
