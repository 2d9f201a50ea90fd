import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { onEvent, type Unsubscribe } from '../api'
import { useSession } from './session'

/**
 * A seat's (子機) link to its primary (issue 18), from the seat:connection
 * event: while the primary is away every call fails at once and the UI says
 * so in a banner; nothing is queued. On the primary's window and in a
 * single-PC branch no such event comes and nothing shows.
 */
export const useSeatLink = defineStore('seatLink', () => {
  /** connecting, connected, away, refused; null: no news (not a seat). */
  const state = ref<string | null>(null)
  /** The message code of away or refused. */
  const code = ref('')
  const down = computed(() => state.value === 'away' || state.value === 'refused')

  /** Starts following the link. Once (re)connected the session is read
   *  again: a primary that restarted has ended it (the sign-in screen
   *  shows), and a page that loaded before the link was up failed to read it. */
  function follow(): Unsubscribe {
    return onEvent('seat:connection', (c) => {
      state.value = c.state
      code.value = c.code
      if (c.state === 'connected') void useSession().load()
    })
  }

  return { state, code, down, follow }
})
