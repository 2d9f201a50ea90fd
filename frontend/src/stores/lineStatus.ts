import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, onEvent, type EngineLineStatus } from '../api'

/** Work that clears within seconds (a photo being fetched) is no news; work waiting longer is. */
export const SLOW_MS = 15_000

/**
 * LINE's API as the background fetcher and sender see it, for the status
 * bar under the header: whether LINE answers, and how many fetches and
 * sends wait for it. Counts only, never a customer. Refreshed on the
 * backend's events (at most once a second however busy the inbox is) and
 * every few seconds while someone follows it.
 */
export const useLineStatus = defineStore('lineStatus', () => {
  const st = ref<EngineLineStatus | null>(null)
  const waitingSince = ref(0)
  const now = ref(Date.now())

  const fetches = computed(() => (st.value ? st.value.pendingProfiles + st.value.pendingContent : 0))
  const sends = computed(() => (st.value ? st.value.waitingSends + st.value.waitingBroadcasts : 0))
  const down = computed(() => !!st.value && !st.value.reachable)
  const waiting = computed(() => fetches.value > 0 || sends.value > 0)
  /** LINE down, or work waiting longer than SLOW_MS (LINE answering slowly). */
  const visible = computed(() => down.value || (waiting.value && waitingSince.value > 0 && now.value - waitingSince.value >= SLOW_MS))

  let busy = false
  async function refresh(): Promise<void> {
    if (busy) return
    busy = true
    try {
      st.value = await api.LineStatus()
      now.value = Date.now()
      if (!waiting.value) waitingSince.value = 0
      else if (!waitingSince.value) waitingSince.value = now.value
    } catch {
      // Signed out, locked or not started: nothing to show.
      st.value = null
    } finally {
      busy = false
    }
  }

  let followers = 0
  let stop: (() => void) | null = null
  /** Keeps the status fresh until the returned function is called. */
  function follow(): () => void {
    if (followers++ === 0) {
      void refresh()
      let throttle: ReturnType<typeof setTimeout> | undefined
      const offs = [
        onEvent('inbox:lineStatus', () => void refresh()),
        onEvent('inbox:changed', () => {
          if (throttle) return
          throttle = setTimeout(() => {
            throttle = undefined
            void refresh()
          }, 1000)
        }),
      ]
      const timer = setInterval(() => void refresh(), 5000)
      stop = () => {
        offs.forEach((off) => off())
        clearInterval(timer)
        clearTimeout(throttle)
      }
    }
    let done = false
    return () => {
      if (done) return
      done = true
      if (--followers === 0) {
        stop?.()
        stop = null
      }
    }
  }

  return { st, fetches, sends, down, visible, refresh, follow }
})
