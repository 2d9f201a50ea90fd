import { toErrorCode } from '../api/errors'

/** Backend/client error codes that have their own message in the catalog. */
export const KNOWN_ERROR_CODES = [
  'notFound',
  'emptyMessage',
  'messageTooLong',
  'sendFailed',
  'unreachable',
  'channelInvalid',
  'keychainLocked',
  'keychainUnavailable',
  'notSandbox',
  'internal',
  'dbLocked',
  'sendUncertain',
  'sendWaiting',
  'notStarted',
  'notRetrying',
  'dbWrongKey',
  'dbPlaintext',
  'dbKeyMissing',
  'dbTooNew',
  'network',
  'badResponse',
  'signInRequired',
  'sessionLocked',
  'sessionEnded',
  'forbidden',
  'badCredentials',
  'lockedOut',
  'setupDone',
  'weakPassword',
  'loginTaken',
  'invalidInput',
  'lastAdmin',
  'cannotDeactivateSelf',
  'backupFailed',
  'noFilePicker',
  'importRunning',
  'importMapping',
  'importEmpty',
  'importNothingValid',
  'importUnreadable',
  'importFile',
  'importCancelled',
  'importNoProfile',
  'invalidValue',
  'alreadyLinked',
  'monthlyLimit',
  'quotaExceeded',
  'contentMasked',
  'imageInvalid',
  'imageTooLarge',
  'noMediaHost',
] as const

export interface TranslatedError {
  /** Human message in the current language; never raw backend text. */
  message: string
  /** Set only for codes the catalog does not know, to be shown small. */
  code: string | null
}

type T = (key: string, named?: Record<string, unknown>) => string

const known = new Set<string>(KNOWN_ERROR_CODES)
const MAX_CODE_LENGTH = 64

/** Key of a known code: accepts `errors.sendFailed` and `sendFailed`. */
export function errorKey(code: string): string | null {
  const bare = code.startsWith('errors.') ? code.slice('errors.'.length) : code
  return known.has(bare) ? `errors.${bare}` : null
}

/**
 * Turns anything a call rejected with into a message for clerks. Unknown codes
 * get the generic message plus the (shortened) code for support.
 */
export function translateError(t: T, err: unknown): TranslatedError {
  const code = toErrorCode(err)
  const key = errorKey(code)
  if (key) return { message: t(key), code: null }
  const shown = code === '' ? null : code.length > MAX_CODE_LENGTH ? `${code.slice(0, MAX_CODE_LENGTH)}…` : code
  return { message: t('errors.unknown'), code: shown }
}

/** One-line form for toasts: message, then the code in parentheses if any. */
export function errorText(t: T, err: unknown): string {
  const e = translateError(t, err)
  return e.code ? `${e.message} (${t('errors.codeLabel', { code: e.code })})` : e.message
}
