// The form page's prefill opening (frontend/forms-page/src/prefill.ts) on
// the vector internal/relay/wire TestPrefillVector seals in Go: the same
// box key, the same values; another user, form, key or a changed byte
// opens nothing.
import { describe, expect, it } from 'vitest'
import { fragmentKey, idTokenSub, openPrefill, prefillBoxKey } from '../../forms-page/src/prefill'

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)))
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const KEY = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')
const USER = 'U0123456789abcdef0123456789abcdef'
const FORM = 'A'.repeat(32)
const BOX_KEY = 'cc6923f1cf815a160dad1502c8aba60076759fe7013cec3cc49f0e1a076a026f'
const BLOB = hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001020304050607fb08d29724164f4315891e1349f956337162da01bb55ddb524f0090fb48a15f8f49dd1c4ff95be87e7b4721f03198e9bbaa54f4e907a29e730a5d076793a2cb83217df5074d4abc8857c98f842ebc86206e89cc42682e879f2117d835475c4335ec0de10b5be54c0748f60b4b695603c8ae359aafa330db6470946419c454eff9ea293e19bcebb43d6713dde063ea89e14cd570f0d6c')

describe('prefill (the Go vector)', () => {
  it('derives the same box key and opens the same values', () => {
    expect(toHex(prefillBoxKey(KEY, USER, FORM))).toBe(BOX_KEY)
    expect(openPrefill(BLOB, KEY, USER, FORM)).toEqual({
      name: '山田 花子',
      addr: { code: '100-0005', pref: '東京都', city: '千代田区', town: '丸の内1-1', building: '' },
    })
  })
  it('opens nothing for another user, form or key, or a changed byte', () => {
    const other = KEY.slice()
    other[0]! ^= 1
    const tampered = BLOB.slice()
    tampered[tampered.length - 1]! ^= 1
    expect(openPrefill(BLOB, KEY, 'U1123456789abcdef0123456789abcdef', FORM)).toBeNull()
    expect(openPrefill(BLOB, KEY, USER, 'B' + 'A'.repeat(31))).toBeNull()
    expect(openPrefill(BLOB, other, USER, FORM)).toBeNull()
    expect(openPrefill(tampered, KEY, USER, FORM)).toBeNull()
    expect(openPrefill(BLOB, KEY, '', FORM)).toBeNull()
  })
  it('reads the key from the fragment and the user from the ID token', () => {
    const k = Buffer.from(KEY).toString('base64url')
    expect(fragmentKey('#k=' + k)).toEqual(KEY)
    expect(fragmentKey('#linesim_id_token=x&k=' + k)).toEqual(KEY)
    expect(fragmentKey('')).toBeNull()
    expect(fragmentKey('#k=' + k.slice(4))).toBeNull()
    const payload = Buffer.from(JSON.stringify({ sub: USER, iss: 'https://access.line.me' })).toString('base64url')
    expect(idTokenSub(`eyJhbGciOiJFUzI1NiJ9.${payload}.sig`)).toBe(USER)
    expect(idTokenSub(null)).toBe('')
    expect(idTokenSub('junk')).toBe('')
  })
})
