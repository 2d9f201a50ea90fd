import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { ERROR_CODES, errorKey, errorText, translateError } from '../../src/i18n/errors'
import { CLIENT_CODES, errorCodes } from '../../src/api'
import { ApiError, toApiError, toErrorCode } from '../../src/api/errors'
import ja from '../../src/i18n/ja'
import en from '../../src/i18n/en'

const tJa = createAppI18n('ja').global.t
const tEn = createAppI18n('en').global.t

/** The catalog entry at a dotted key, or undefined. */
function at(cat: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined), cat)
}

describe('error codes', () => {
  // The Go side's codes are generated (contract.gen.ts from msgcode and the
  // message error codes): a new Go code without both messages fails here.
  it('every code of the Go side and of the client has a Japanese and an English message', () => {
    expect(errorCodes.length).toBeGreaterThan(50)
    for (const c of [...errorCodes, ...Object.values(CLIENT_CODES)]) {
      expect(typeof at(ja, c), `ja: ${c}`).toBe('string')
      expect(typeof at(en, c), `en: ${c}`).toBe('string')
      expect((at(ja, c) as string).trim(), `ja: ${c}`).not.toBe('')
    }
  })

  it('every code of the Go side is known and is its own catalog key', () => {
    for (const c of errorCodes) expect(errorKey(c), c).toBe(c)
    expect(ERROR_CODES).toEqual(expect.arrayContaining(['errors.network', 'errors.badResponse', 'update.errors.noOffer']))
  })

  // A feature's own wording (<feature>.errors.<name>) only for codes that exist.
  it('feature wordings are of real codes', () => {
    for (const [section, body] of Object.entries(ja)) {
      const own = (body as Record<string, unknown>).errors
      if (section === 'errors' || section === 'update' || !own || typeof own !== 'object') continue
      for (const name of Object.keys(own)) expect(errorKey(name), `${section}.errors.${name}`).not.toBeNull()
    }
  })

  it('a feature wording wins in its feature, the shared one elsewhere', () => {
    expect(translateError(tJa, 'errors.campaignInvalid', 'campaigns').message).toBe(ja.campaigns.errors.campaignInvalid)
    expect(translateError(tJa, 'errors.campaignInvalid', 'automations').message).toBe(ja.automations.errors.campaignInvalid)
    expect(translateError(tJa, 'errors.campaignInvalid').message).toBe(ja.errors.campaignInvalid)
    // No wording of its own: the shared one, in any feature.
    expect(translateError(tEn, 'errors.forbidden', 'campaigns').message).toBe(en.errors.forbidden)
    expect(translateError(tJa, 'update.errors.noOffer').message).toBe(ja.update.errors.noOffer)
  })

  it('accepts codes with or without the errors. prefix', () => {
    expect(errorKey('sendFailed')).toBe('errors.sendFailed')
    expect(errorKey('errors.sendFailed')).toBe('errors.sendFailed')
    expect(errorKey('errors.codeLabel')).toBeNull()
    expect(errorKey('errors.unknown')).toBeNull()
  })

  it('translates known codes without showing the code', () => {
    expect(translateError(tJa, 'errors.unreachable')).toEqual({ message: ja.errors.unreachable, code: null })
    expect(translateError(tEn, new ApiError('errors.messageTooLong'))).toEqual({ message: en.errors.messageTooLong, code: null })
    expect(translateError(tJa, { error: 'errors.channelInvalid' }).message).toBe(ja.errors.channelInvalid)
  })

  it('unknown codes get the generic message plus the code, shortened', () => {
    expect(translateError(tJa, 'errors.somethingNew')).toEqual({ message: ja.errors.unknown, code: 'errors.somethingNew' })
    const long = 'x'.repeat(300)
    const e = translateError(tEn, new Error(long))
    expect(e.message).toBe(en.errors.unknown)
    expect(e.code!.length).toBeLessThanOrEqual(65)
    expect(translateError(tJa, undefined)).toEqual({ message: ja.errors.unknown, code: null })
  })

  it('errorText appends the code only when unknown', () => {
    expect(errorText(tJa, 'errors.sendFailed')).toBe(ja.errors.sendFailed)
    expect(errorText(tEn, 'weird')).toBe(`${en.errors.unknown} (Error code: weird)`)
  })

  it('normalises what transports reject with', () => {
    expect(toErrorCode(' errors.notFound ')).toBe('errors.notFound')
    expect(toErrorCode(new ApiError('errors.internal'))).toBe('errors.internal')
    expect(toErrorCode({ error: 'errors.dbLocked' })).toBe('errors.dbLocked')
    expect(toErrorCode(new Error('errors.sendFailed'))).toBe('errors.sendFailed')
    expect(toErrorCode(42)).toBe('')
  })
})

describe('field errors', () => {
  const fields = [{ field: 'content.email.subject', code: 'errors.fieldRequired' }]

  it('reads the wrong fields from a Wails rejection (the JSON of msgcode.Error) and from the bridge', () => {
    const wails = toApiError(JSON.stringify({ code: 'errors.campaignInvalid', fields }))
    expect(wails.code).toBe('errors.campaignInvalid')
    expect(wails.fields).toEqual(fields)
    const http = toApiError({ error: 'errors.richMenuInvalid', fields: [{ field: 'areas.1.action.uri', code: 'errors.fieldLinkScheme' }] })
    expect(http.code).toBe('errors.richMenuInvalid')
    expect(http.fields[0]?.field).toBe('areas.1.action.uri')
    // A plain code has none; text that only looks like JSON stays a code.
    expect(toApiError('errors.notFound').fields).toEqual([])
    expect(toApiError('{not json').code).toBe('{not json')
    expect(toErrorCode(JSON.stringify({ code: 'errors.campaignInvalid', fields }))).toBe('errors.campaignInvalid')
    // Malformed entries are dropped, not shown.
    expect(toApiError({ error: 'errors.campaignInvalid', fields: [{ field: 3 }, null, ...fields] }).fields).toEqual(fields)
  })

  it('every field code has its words in both catalogs, with the limit filled in', () => {
    const fieldCodes = errorCodes.filter((c) => c.startsWith('errors.field'))
    expect(fieldCodes.length).toBeGreaterThanOrEqual(12)
    for (const c of fieldCodes) {
      expect(tJa(c, { max: 20 }), c).not.toContain('{')
      expect(tEn(c, { max: 20 }), c).not.toContain('{')
    }
    expect(tJa('errors.fieldTooLong', { max: 20 })).toBe('20 文字以内にしてください。')
    expect(tEn('errors.fieldItem', { label: 'Email subject', message: 'Enter a value.' })).toBe('Email subject: Enter a value.')
  })
})
