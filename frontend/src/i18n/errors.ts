import { CLIENT_CODES, errorCodes, toErrorCode } from '../api'
import ja from './ja'

/**
 * The one way an error becomes words. A code is its own catalog key
 * (`errors.sendFailed`, `update.errors.noOffer`): the Go side's codes come
 * from the generated contract, the client's from CLIENT_CODES, and a unit
 * test checks both catalogs have each. A feature may word a shared code its
 * own way under `<feature>.errors.<name>` and pass its name.
 */
export const ERROR_CODES: readonly string[] = [...errorCodes, ...Object.values(CLIENT_CODES)]

export interface TranslatedError {
  /** Human message in the current language; never raw backend text. */
  message: string
  /** Set only for codes the catalog does not know, to be shown small. */
  code: string | null
}

type T = (key: string, named?: Record<string, unknown>) => string

/** A catalog section that may word error codes its own way. */
export type ErrorContext = keyof typeof ja

const known = new Set<string>(ERROR_CODES)
const MAX_CODE_LENGTH = 64

/** The catalog key of a known code (`errors.sendFailed` or bare `sendFailed`); null for anything else. */
export function errorKey(code: string): string | null {
  const full = code.includes('.') ? code : `errors.${code}`
  return known.has(full) ? full : null
}

/** Whether the catalog has a message at key (ja and en have the same keys). */
function hasMessage(key: string): boolean {
  let node: unknown = ja
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return false
    node = (node as Record<string, unknown>)[part]
  }
  return typeof node === 'string'
}

/**
 * Turns anything a call rejected with into a message for clerks. Unknown codes
 * get the generic message plus the (shortened) code for support.
 */
export function translateError(t: T, err: unknown, context?: ErrorContext): TranslatedError {
  const code = toErrorCode(err)
  const key = errorKey(code)
  if (key) {
    const own = context ? `${context}.errors.${key.slice(key.lastIndexOf('.') + 1)}` : ''
    return { message: t(own && hasMessage(own) ? own : key), code: null }
  }
  const shown = code === '' ? null : code.length > MAX_CODE_LENGTH ? `${code.slice(0, MAX_CODE_LENGTH)}…` : code
  return { message: t('errors.unknown'), code: shown }
}

/** One-line form for toasts and inline text: message, then the code in parentheses if any. */
export function errorText(t: T, err: unknown, context?: ErrorContext): string {
  const e = translateError(t, err, context)
  return e.code ? `${e.message} (${t('errors.codeLabel', { code: e.code })})` : e.message
}
