// Prefill without exposure (issue 21; internal/relay/wire/prefill.go is the
// other side, and both test one vector). A link sent to one customer is
// /f/TENANT/FORM?p=ID#k=KEY: the relay holds only the ciphertext under ID;
// the key K is in the fragment. The box key is bound to the LINE user the
// desk sent the link to:
//   K' = HKDF-SHA256(ikm = K, salt = sub of the ID token, info = INFO + form ID)
//   blob = nonce (24) ‖ secretbox(K', nonce, {"v": {question ID: value}})
// so a forwarded link opened by someone else opens to nothing.
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js'

export const PREFILL_INFO = 'tsunagu prefill v1 '

const utf8 = (s: string) => new TextEncoder().encode(s)

export function prefillBoxKey(key: Uint8Array, sub: string, formId: string): Uint8Array {
  return hkdf(sha256, key, utf8(sub), utf8(PREFILL_INFO + formId), 32)
}

// openPrefill returns the values, or null for anything that does not open
// (another user, another form, a wrong or missing key, a changed byte).
export function openPrefill(blob: Uint8Array, key: Uint8Array, sub: string, formId: string): Record<string, unknown> | null {
  if (key.length !== 32 || blob.length <= 24 + 16 || !sub) return null
  const k = prefillBoxKey(key, sub, formId)
  try {
    const plain = xsalsa20poly1305(k, blob.subarray(0, 24)).decrypt(blob.subarray(24))
    const v = (JSON.parse(new TextDecoder().decode(plain)) as { v?: unknown }).v
    plain.fill(0)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  } finally {
    k.fill(0)
  }
}

function b64url(s: string): Uint8Array | null {
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'))
    return Uint8Array.from(bin, (c) => c.charCodeAt(0))
  } catch {
    return null
  }
}

// fragmentKey reads K from a location hash ("#k=…"); null without one.
export function fragmentKey(hash: string): Uint8Array | null {
  const k = new URLSearchParams(hash.replace(/^#/, '')).get('k')
  const b = k ? b64url(k) : null
  return b && b.length === 32 ? b : null
}

// idTokenSub is the `sub` (LINE user ID) of an ID token's payload. The page
// does not verify the token (the desktop does, on the answer); a token
// naming another user only derives a key that opens nothing.
export function idTokenSub(token: string | null): string {
  const p = token?.split('.')[1]
  const b = p ? b64url(p) : null
  if (!b) return ''
  try {
    const sub = (JSON.parse(new TextDecoder().decode(b)) as { sub?: unknown }).sub
    return typeof sub === 'string' ? sub : ''
  } catch {
    return ''
  }
}
