import { h } from 'vue'
import { useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { useNotify } from '../../composables/notify'
import { campaignErrorKey } from '../../api/campaigns'
import { errorText } from '../../i18n/errors'

type T = (key: string, named?: Record<string, unknown>) => string

/** A campaign error in the clerk's words (campaigns.errors.*), else the shared catalog's. */
export function campaignErrorText(t: T, err: unknown): string {
  const key = campaignErrorKey(err)
  return key ? t(key) : errorText(t, err)
}

/** useNotify, with the campaign feature's own error codes translated. */
export function useCampaignNotify() {
  const notify = useNotify()
  const message = useMessage()
  const { t } = useI18n()
  function error(err: unknown) {
    const key = campaignErrorKey(err)
    if (!key) return notify.error(err)
    message.error(() => h('span', { 'data-testid': 'toast-error' }, t(key)), { duration: 6000, closable: true })
  }
  return { ...notify, error }
}
