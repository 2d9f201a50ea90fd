import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, onEvent, type Unsubscribe } from '../api'

/**
 * How many campaigns wait for the signed-in approver (not their own), for
 * the navigation badge and the notice. Only staff who may approve follow
 * it; it refreshes on every campaign change the Go side announces
 * (campaigns:changed), so a request made at another seat shows at once.
 */
export const useApprovals = defineStore('approvals', () => {
  const waiting = ref(0)
  let seq = 0

  /** Reloads the count; returns how many more wait than before. */
  async function refresh(): Promise<number> {
    const mine = ++seq
    try {
      const n = await api.CampaignsWaitingForApproval()
      if (mine !== seq) return 0
      const more = n - waiting.value
      waiting.value = n
      return more
    } catch {
      // Signed out or locked meanwhile: the badge simply stays as it was.
      return 0
    }
  }

  /** Follows the count until the returned function is called; onMore hears of new requests. */
  function follow(onMore: (n: number) => void): Unsubscribe {
    const check = () =>
      void refresh().then((more) => {
        if (more > 0) onMore(waiting.value)
      })
    check() // at sign-in: what already waits
    return onEvent('campaigns:changed', check)
  }

  return { waiting, refresh, follow }
})
