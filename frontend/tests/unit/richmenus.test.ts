import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { translateError } from '../../src/i18n/errors'
import { errorCodes } from '../../src/api'

describe('rich menu error codes', () => {
  it('translates every backend code of the feature in both languages', () => {
    const codes = ['richMenuInvalid', 'richMenuInUse', 'richMenuNoImage', 'richMenuBusy', 'richMenuOffline']
    for (const c of codes) {
      expect(errorCodes as readonly string[]).toContain(`errors.${c}`)
      for (const locale of ['ja', 'en'] as const) {
        const { t, te } = createAppI18n(locale).global
        expect(te(`errors.${c}`), `${locale}:${c}`).toBe(true)
        expect(translateError(t, `errors.${c}`)).toEqual({ message: t(`errors.${c}`), code: null })
      }
    }
    const { t } = createAppI18n('ja').global
    expect(translateError(t, 'errors.notFound').message).toBe(t('errors.notFound'))
  })
})
