import { useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { useNotify } from '../../composables/notify'
import { linkingErrorKey } from '../../api/linking'

/** Toasts for the linking components: the feature's own error codes are
 * translated under linking.errors, anything else as usual. */
export function useLinkingNotify() {
  const notify = useNotify()
  const message = useMessage()
  const { t } = useI18n()
  return {
    success: notify.success,
    error(err: unknown) {
      const key = linkingErrorKey(err)
      if (key) message.error(() => t(key), { duration: 6000, closable: true })
      else notify.error(err)
    },
  }
}
