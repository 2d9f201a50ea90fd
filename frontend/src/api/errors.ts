/**
 * Every failure that reaches a component is an ApiError carrying a code.
 * Backend codes look like `errors.sendFailed`; the UI translates them via the
 * i18n catalog (see i18n/errors.ts) and never shows raw backend text.
 */
export class ApiError extends Error {
  readonly code: string
  constructor(code: string) {
    super(code)
    this.name = 'ApiError'
    this.code = code
  }
}

/** Codes produced by the client itself (not by the Go side). */
export const CLIENT_CODES = {
  /** The HTTP bridge could not be reached at all. */
  network: 'errors.network',
  /** A non-2xx answer without a usable `{"error": code}` body. */
  badResponse: 'errors.badResponse',
} as const

/**
 * Normalises anything thrown by a transport into a code string.
 * Wails rejects with a plain string; the HTTP bridge yields `{error: code}`.
 */
export function toErrorCode(err: unknown): string {
  if (err instanceof ApiError) return err.code
  if (typeof err === 'string') return err.trim()
  if (err && typeof err === 'object') {
    const e = err as { error?: unknown; code?: unknown; message?: unknown }
    if (typeof e.error === 'string') return e.error.trim()
    if (typeof e.code === 'string') return e.code.trim()
    if (typeof e.message === 'string') return e.message.trim()
  }
  return ''
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  return new ApiError(toErrorCode(err))
}
