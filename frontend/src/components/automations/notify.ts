import { h } from 'vue'
import { useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { useNotify } from '../../composables/notify'
import { automationErrorKey } from '../../api/automations'

/** useNotify, with the automation feature's own error codes translated (automations.errors.*). */
export function useAutomationNotify() {
  const notify = useNotify()
  const message = useMessage()
  const { t } = useI18n()
  function error(err: unknown) {
    const key = automationErrorKey(err)
    if (!key) return notify.error(err)
    message.error(() => h('span', { 'data-testid': 'toast-error' }, t(key)), { duration: 6000, closable: true })
  }
  return { ...notify, error }
}
