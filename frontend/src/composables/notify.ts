import { h } from 'vue'
import { useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { translateError } from '../i18n/errors'

/** Toasts for success and for translated errors (unknown codes shown small). */
export function useNotify() {
  const message = useMessage()
  const { t } = useI18n()

  function error(err: unknown) {
    const e = translateError(t, err)
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
    message.success(text, { duration: 4000 })
  }

  function info(text: string) {
    message.info(text, { duration: 3000 })
  }

  return { error, success, info }
}
