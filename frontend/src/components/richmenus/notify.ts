import { h } from 'vue'
import { useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { useNotify } from '../../composables/notify'
import { toErrorCode } from '../../api/errors'
import { richMenuErrorKey } from '../../api/richmenus'

/** useNotify, with the rich menu feature's own error codes (richmenus.errors.*) translated. */
export function useRichMenuNotify() {
  const notify = useNotify()
  const message = useMessage()
  const { t } = useI18n()
  function error(err: unknown) {
    const key = richMenuErrorKey(toErrorCode(err))
    if (!key) return notify.error(err)
    message.error(() => h('span', { 'data-testid': 'toast-error' }, t(key)), { duration: 6000, closable: true })
  }
  return { ...notify, error }
}
