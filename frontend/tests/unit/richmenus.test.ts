import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { richMenuErrorKey } from '../../src/api/richmenus'

describe('rich menu error codes', () => {
  it('maps every backend code (app/facade/richmenus.go) to a message in both languages', () => {
    for (const c of ['richMenuInvalid', 'richMenuInUse', 'richMenuNoImage', 'richMenuBusy', 'richMenuOffline']) {
      const key = richMenuErrorKey(`errors.${c}`)
      expect(key).toBe(`richmenus.errors.${c}`)
      for (const locale of ['ja', 'en'] as const) expect(createAppI18n(locale).global.te(key ?? ''), `${locale}:${c}`).toBe(true)
    }
    expect(richMenuErrorKey('errors.notFound')).toBeNull()
  })
})
