import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { KNOWN_ERROR_CODES, errorKey, errorText, translateError } from '../../src/i18n/errors'
import { ApiError, toErrorCode } from '../../src/api/errors'
import ja from '../../src/i18n/ja'
import en from '../../src/i18n/en'

const tJa = createAppI18n('ja').global.t
const tEn = createAppI18n('en').global.t

describe('error codes', () => {
  it('every known code has a message in both catalogs', () => {
    for (const c of KNOWN_ERROR_CODES) {
      expect(ja.errors, c).toHaveProperty(c)
      expect(en.errors, c).toHaveProperty(c)
    }
  })

  it('covers every code of the backend contract', () => {
    const contract = [
      'errors.notFound',
      'errors.emptyMessage',
      'errors.messageTooLong',
      'errors.sendFailed',
      'errors.unreachable',
      'errors.channelInvalid',
      'errors.keychainLocked',
      'errors.keychainUnavailable',
      'errors.notSandbox',
      'errors.internal',
      'errors.dbLocked',
      // also sent by app/facade and internal/inbox
      'errors.sendUncertain',
      'errors.notStarted',
      'errors.notRetrying',
      'errors.dbWrongKey',
      'errors.dbPlaintext',
      'errors.dbKeyMissing',
      'errors.dbTooNew',
    ]
    for (const c of contract) expect(errorKey(c), c).toBe(c)
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
