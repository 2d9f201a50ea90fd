// NaCl sealed box (libsodium crypto_box_seal), as Go's
// golang.org/x/crypto/nacl/box.SealAnonymous makes and OpenAnonymous opens:
// an ephemeral X25519 key pair; nonce = BLAKE2b-192(ephemeral pk ‖ recipient
// pk); the message boxed with XSalsa20-Poly1305 under HSalsa20(X25519
// shared secret); output ephemeral pk ‖ tag ‖ ciphertext. Built only from
// audited @noble primitives; internal/forms opens a box made by this code.
import { x25519 } from '@noble/curves/ed25519.js'
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js'
import { blake2b } from '@noble/hashes/blake2.js'

// "expand 32-byte k", the Salsa20 constant, as little-endian words.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

function words(b: Uint8Array): Uint32Array {
  const out = new Uint32Array(b.length / 4)
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4, true)
  return out
}

function bytes(w: Uint32Array): Uint8Array {
  const out = new Uint8Array(w.length * 4)
  const v = new DataView(out.buffer)
  for (let i = 0; i < w.length; i++) v.setUint32(i * 4, w[i], true)
  return out
}

// boxKey is crypto_box_beforenm: HSalsa20 of the shared secret with a zero
// nonce.
function boxKey(shared: Uint8Array): Uint8Array {
  const out = new Uint32Array(8)
  hsalsa(SIGMA, words(shared), new Uint32Array(4), out)
  return bytes(out)
}

export function sealAnonymous(message: Uint8Array, recipient: Uint8Array): Uint8Array {
  if (recipient.length !== 32) throw new Error('recipient key must be 32 bytes')
  const esk = x25519.utils.randomSecretKey()
  const epk = x25519.getPublicKey(esk)
  const nonceIn = new Uint8Array(64)
  nonceIn.set(epk, 0)
  nonceIn.set(recipient, 32)
  const nonce = blake2b(nonceIn, { dkLen: 24 })
  const key = boxKey(x25519.getSharedSecret(esk, recipient))
  const boxed = xsalsa20poly1305(key, nonce).encrypt(message)
  key.fill(0)
  esk.fill(0)
  const out = new Uint8Array(32 + boxed.length)
  out.set(epk, 0)
  out.set(boxed, 32)
  return out
}
