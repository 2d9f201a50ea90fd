import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { errorCodes, isApproved, type AutomationRule as Automation } from '../../src/api'
import { translateError } from '../../src/i18n/errors'

describe('automations', () => {
  it('translates every automation error code of the Go side, in both languages', () => {
    const codes = errorCodes.filter((c) => c.startsWith('errors.automation'))
    expect(codes.length).toBeGreaterThan(3)
    for (const locale of ['ja', 'en'] as const) {
      const { t, te } = createAppI18n(locale).global
      for (const c of codes) {
        expect(te(c), `${locale}:${c}`).toBe(true)
        expect(translateError(t, new Error(c), 'automations'), `${locale}:${c}`).toEqual({ message: t(c), code: null })
      }
      // Shared codes in the automation's own words.
      for (const c of ['segmentInvalid', 'campaignInvalid']) {
        expect(translateError(t, `errors.${c}`, 'automations').message).toBe(t(`automations.errors.${c}`))
      }
      expect(translateError(t, new Error('errors.forbidden'), 'automations').message).toBe(t('errors.forbidden'))
    }
  })

  it('counts an approval only by someone else, of the current version', () => {
    const base = { author: 'staff:a', approvedBy: 'staff:b', version: 2, approvedVersion: 2 } as Automation
    expect(isApproved(base)).toBe(true)
    expect(isApproved({ ...base, approvedVersion: 1 })).toBe(false)
    expect(isApproved({ ...base, approvedBy: 'staff:a' })).toBe(false)
    expect(isApproved({ ...base, approvedBy: '' })).toBe(false)
  })
})
