import type { FieldError } from './contract.gen'

/**
 * Every failure that reaches a component is an ApiError carrying a code.
 * Backend codes look like `errors.sendFailed`; the UI translates them via the
 * i18n catalog (see i18n/errors.ts) and never shows raw backend text.
 */
export class ApiError extends Error {
  readonly code: string
  /** The wrong fields of a validation failure (internal/fielderr), else []. */
  readonly fields: readonly FieldError[]
  constructor(code: string, fields: readonly FieldError[] = []) {
    super(code)
    this.name = 'ApiError'
    this.code = code
    this.fields = fields
  }
}

/**
 * What a bound method rejects with (msgcode.Error): the code, and for a
 * validation failure the wrong fields. Wails hands over its text: the bare
 * code, or this as JSON when it has fields; the HTTP bridge sends
 * `{"error": code, "fields": [...]}`.
 */
function rejection(text: string): { code: string; fields: FieldError[] } {
  const s = text.trim()
  if (s.startsWith('{')) {
    try {
      const v = JSON.parse(s) as { code?: unknown; fields?: unknown }
      if (typeof v.code === 'string') return { code: v.code, fields: fieldList(v.fields) }
    } catch {
      /* not a rejection: the text is the code */
    }
  }
  return { code: s, fields: [] }
}

/** The well-formed entries of a fields list from the Go side. */
function fieldList(v: unknown): FieldError[] {
  if (!Array.isArray(v)) return []
  return v.filter(
    (f): f is FieldError => !!f && typeof f === 'object' && typeof (f as FieldError).field === 'string' && typeof (f as FieldError).code === 'string',
  )
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
  return toApiError(err).code
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (typeof err === 'string') {
    const r = rejection(err)
    return new ApiError(r.code, r.fields)
  }
  if (err && typeof err === 'object') {
    const e = err as { error?: unknown; code?: unknown; message?: unknown; fields?: unknown }
    if (typeof e.error === 'string') return new ApiError(e.error.trim(), fieldList(e.fields))
    if (typeof e.code === 'string') return new ApiError(e.code.trim(), fieldList(e.fields))
    if (typeof e.message === 'string') return toApiError(e.message)
  }
  return new ApiError('')
}

/** The wrong fields err carries ([] for any other failure). */
export function fieldErrors(err: unknown): readonly FieldError[] {
  return toApiError(err).fields
}
