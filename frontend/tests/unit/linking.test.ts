import { describe, expect, it } from 'vitest'
import ja from '../../src/i18n/ja'
import en from '../../src/i18n/en'
import { linkingErrorKey } from '../../src/api/linking'
import { ApiError } from '../../src/api/errors'

describe('linking error codes', () => {
  it('maps the feature codes to its own catalog keys, in both languages', () => {
    for (const code of ['linkCustomerTaken', 'linkUserTaken', 'linkNotLinked', 'linkReasonRequired', 'linkNoNotifier', 'linkDestination', 'linkNoBirthDate']) {
      expect(linkingErrorKey(new ApiError(`errors.${code}`))).toBe(`linking.errors.${code}`)
      expect((ja.linking.errors as Record<string, string>)[code]).toBeTruthy()
      expect((en.linking.errors as Record<string, string>)[code]).toBeTruthy()
    }
  })

  it('leaves every other error to the common catalog', () => {
    expect(linkingErrorKey(new ApiError('errors.forbidden'))).toBeNull()
    expect(linkingErrorKey('errors.linkSomethingElse')).toBeNull()
    expect(linkingErrorKey(undefined)).toBeNull()
  })
})
