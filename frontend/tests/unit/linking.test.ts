import { describe, expect, it } from 'vitest'
import ja from '../../src/i18n/ja'
import en from '../../src/i18n/en'
import { createAppI18n } from '../../src/i18n'
import { translateError } from '../../src/i18n/errors'
import { ApiError } from '../../src/api/errors'

const tJa = createAppI18n('ja').global.t
const tEn = createAppI18n('en').global.t

describe('linking error codes', () => {
  it('translates the feature codes, in both languages', () => {
    for (const code of ['linkCustomerTaken', 'linkUserTaken', 'linkNotLinked', 'linkReasonRequired', 'linkNoNotifier', 'linkDestination', 'linkNoBirthDate']) {
      const jaText = (ja.errors as Record<string, string>)[code]
      const enText = (en.errors as Record<string, string>)[code]
      expect(jaText).toBeTruthy()
      expect(enText).toBeTruthy()
      expect(translateError(tJa, new ApiError(`errors.${code}`))).toEqual({ message: jaText, code: null })
      expect(translateError(tEn, new ApiError(`errors.${code}`))).toEqual({ message: enText, code: null })
    }
  })

  it('leaves every other error to the common catalog', () => {
    expect(translateError(tJa, new ApiError('errors.forbidden')).message).toBe(ja.errors.forbidden)
    expect(translateError(tJa, 'errors.linkSomethingElse')).toEqual({ message: ja.errors.unknown, code: 'errors.linkSomethingElse' })
    expect(translateError(tJa, undefined)).toEqual({ message: ja.errors.unknown, code: null })
  })
})
