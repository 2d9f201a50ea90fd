import { h } from 'vue'
import { useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { translateError, type ErrorContext } from '../i18n/errors'

/**
 * Toast text with a line-break opportunity after each path separator, so a
 * long file path wraps at a folder boundary instead of mid-name. The full
 * text stays in the title in case the toast clamps it.
 */
export function toastText(text: string) {
  // Split keeps the separators as their own items (no lookbehind: older
  // WebKit webviews reject it).
  const nodes = text
    .split(/([\\/])/)
    .filter((p) => p !== '')
    .flatMap((p) => (p === '/' || p === '\\' ? [p, h('wbr')] : [p]))
  return h('span', { class: 'toast-text', title: text }, nodes)
}

/**
 * Toasts for success and for translated errors (unknown codes shown small).
 * A feature passes its catalog section to word shared codes its own way.
 */
export function useNotify(context?: ErrorContext) {
  const message = useMessage()
  const { t } = useI18n()

  function error(err: unknown) {
    const e = translateError(t, err, context)
    message.error(
      () =>
        h('span', { 'data-testid': 'toast-error' }, [
          e.message,
          e.code ? h('small', { class: 'error-code' }, ` ${t('errors.codeLabel', { code: e.code })}`) : null,
        ]),
      { duration: 6000, closable: true },
    )
  }

  function success(text: string) {
    message.success(() => toastText(text), { duration: 4000 })
  }

  function info(text: string) {
    message.info(() => toastText(text), { duration: 3000 })
  }

  return { error, success, info }
}

