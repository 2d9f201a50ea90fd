import { computed, nextTick, ref, watch } from 'vue'
import { useI18n } from 'vue-i18n'
import { fieldErrors as fieldsOf, type FieldError } from '../api'

/**
 * The one way a form shows what is wrong with its fields: the wrong fields a
 * call rejected with (internal/fielderr, by their path in the value sent:
 * `content.email.subject`, `areas.1.action.uri`) and the form's own
 * required checks, as Naive UI form item props (red + the reason under the
 * field), a summary naming each field by its visible label, and a scroll to
 * the first one. An untouched form shows nothing: a client check counts only
 * after a submit attempt or after its field lost focus, and a server error
 * goes as soon as its field is changed.
 */
export interface FieldErrorsOptions {
  /** The value the form sends; paths are read in it to notice an edit. */
  source: () => unknown
  /** The visible label of a field path (with its position: 「エリア 2 のリンク」). */
  label: (path: string) => string
  /** Makes a field visible before it is scrolled to (open its tab). */
  reveal?: (path: string) => void
  /** The form's element, when two forms on one screen share a path (`from`, `password`). */
  root?: () => ParentNode | null | undefined
  /** The form's own checks: path -> what is wrong now (a field code), or null. */
  checks?: Record<string, () => Omit<FieldError, 'field'> | null>
}

export interface ShownFieldError extends FieldError {
  label: string
  message: string
}

/** The value at a dotted path (`areas.1.action.uri`) in v, or undefined. */
export function valueAt(v: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), v)
}

/** Whether path is at or below prefix (`areas.1` holds `areas.1.action.uri`). */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`)
}

export function useFieldErrors(opts: FieldErrorsOptions) {
  const { t } = useI18n()
  // Server errors with the value their field had when they were shown.
  const server = ref<{ err: FieldError; was: string }[]>([])
  const submitted = ref(false)
  const touched = ref(new Set<string>())

  const snapshot = (path: string) => JSON.stringify(valueAt(opts.source(), path) ?? null)

  // An edited field is the clerk fixing it: its server error goes.
  watch(
    () => JSON.stringify(opts.source() ?? null),
    () => {
      if (server.value.length) server.value = server.value.filter((s) => snapshot(s.err.field) === s.was)
    },
  )

  const active = computed<FieldError[]>(() => {
    const out = server.value.map((s) => s.err)
    for (const [field, check] of Object.entries(opts.checks ?? {})) {
      if (!submitted.value && !touched.value.has(field)) continue
      const e = check()
      if (e && !out.some((o) => o.field === field)) out.push({ field, ...e })
    }
    return out
  })

  function message(e: FieldError): string {
    return t(e.code, { max: e.max ?? 0, min: e.min ?? 0 })
  }

  /** The errors shown, with their labels and messages, in the form's order of arrival. */
  const shown = computed<ShownFieldError[]>(() => active.value.map((e) => ({ ...e, label: opts.label(e.field), message: message(e) })))

  /** The error of exactly path, or of a field below it when deep. */
  function errorOf(path: string, deep = false): FieldError | undefined {
    return active.value.find((e) => (deep ? isUnder(e.field, path) : e.field === path))
  }

  /**
   * Props for the NFormItem around the field at path: red and the reason
   * when wrong, no space taken when not; data-field for the scroll.
   * deep: also shows errors of the fields below path (a whole area).
   */
  function item(path: string, deep = false) {
    const e = errorOf(path, deep)
    return {
      showLabel: false,
      showFeedback: !!e,
      validationStatus: e ? ('error' as const) : undefined,
      feedback: e ? message(e) : undefined,
      'data-field': path,
      'data-field-error': e ? 'true' : undefined,
    }
  }

  /** Whether path or anything below it is wrong (to mark a tab). */
  function has(path: string): boolean {
    return !!errorOf(path, true)
  }

  /** Marks a field as left by the clerk: its own check may show now. */
  function blur(path: string) {
    if (!touched.value.has(path)) touched.value = new Set([...touched.value, path])
  }

  /** Scrolls to the field at path (after revealing it) and focuses its input. */
  async function focus(path: string) {
    opts.reveal?.(path)
    await nextTick()
    const el = findField(path)
    if (!el) return
    el.scrollIntoView({ block: 'center', behavior: 'auto' })
    const input = el.querySelector<HTMLElement>('input:not([type=hidden]):not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])')
    input?.focus({ preventScroll: true })
  }

  /** The form item of path, or of its nearest parent shown on the form. */
  function findField(path: string): HTMLElement | null {
    const scope = opts.root?.() ?? document
    for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
      const el = scope.querySelector<HTMLElement>(`[data-field="${CSS.escape(p)}"]`)
      if (el) return el
    }
    return null
  }

  /**
   * A submit attempt: runs the form's own checks. False, with the first
   * wrong field scrolled to, when one fails (the call is then not made).
   */
  function validate(): boolean {
    submitted.value = true
    server.value = []
    const first = active.value[0]
    if (first) void focus(first.field)
    return !first
  }

  /**
   * Shows the wrong fields a call rejected with and scrolls to the first.
   * False when err carries none: the caller shows it as a message instead.
   */
  function show(err: unknown): boolean {
    const fields = fieldsOf(err)
    if (!fields.length) return false
    server.value = fields.map((f) => ({ err: f, was: snapshot(f.field) }))
    void focus(fields[0]!.field)
    return true
  }

  /** Forgets everything (the form was reset or closed). */
  function reset() {
    server.value = []
    submitted.value = false
    touched.value = new Set()
  }

  return { item, has, blur, focus, validate, show, reset, shown, message }
}

export type FieldErrors = ReturnType<typeof useFieldErrors>
