import { describe, expect, it } from 'vitest'
import { conversationName } from '../../src/utils/names'

const t = (key: string, named?: Record<string, unknown>) => `${key}:${named?.id ?? ''}`

describe('conversationName', () => {
  it('is the LINE name when the profile arrived', () => {
    expect(conversationName({ displayName: ' 山田 花子 ', lineUserId: 'U0123456789abcdef0123456789abcdef' }, t)).toBe('山田 花子')
  })
  it('is a short form of the user ID until then, never the raw ID', () => {
    const name = conversationName({ displayName: '', lineUserId: 'U0123456789abcdef0123456789a1b2' }, t)
    expect(name).toBe('inbox.unnamed:a1b2')
    expect(name).not.toContain('U0123')
  })
})
