import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { AUTOMATION_ERRORS, automationErrorKey, isApproved, type Automation } from '../../src/api/automations'

// Tests run from frontend/; the facade is next to it.
const facade = readFileSync(resolve(process.cwd(), '..', 'app/facade/automations.go'), 'utf8')

describe('automations', () => {
  it('translates every error code the facade returns, in both languages', () => {
    const codes = [...facade.matchAll(/"errors\.(automation\w+)"/g)].map((m) => m[1] ?? '')
    expect(codes.length).toBeGreaterThan(3)
    for (const c of codes) expect(AUTOMATION_ERRORS as readonly string[]).toContain(c)
    for (const locale of ['ja', 'en'] as const) {
      const { te } = createAppI18n(locale).global
      for (const c of AUTOMATION_ERRORS) expect(te(`automations.errors.${c}`), `${locale}:${c}`).toBe(true)
    }
    expect(automationErrorKey(new Error('errors.automationOwnApproval'))).toBe('automations.errors.automationOwnApproval')
    expect(automationErrorKey(new Error('errors.forbidden'))).toBeNull()
  })

  it('counts an approval only by someone else, of the current version', () => {
    const base = { author: 'staff:a', approvedBy: 'staff:b', version: 2, approvedVersion: 2 } as Automation
    expect(isApproved(base)).toBe(true)
    expect(isApproved({ ...base, approvedVersion: 1 })).toBe(false)
    expect(isApproved({ ...base, approvedBy: 'staff:a' })).toBe(false)
    expect(isApproved({ ...base, approvedBy: '' })).toBe(false)
  })
})
