import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, methodInfo, onEvent, type MethodName, type SeatRoleInfo, type Unsubscribe } from '../api'
import { useSession } from './session'

/**
 * A seat's (子機) link to its primary (issue 18).
 *
 * The role is read once at start (SeatRole: a seat's own Go side answers it
 * from its pairing, a primary's window through the facade), so the screen
 * knows it is a seat before any change of the link: it names the seat in
 * the header and hides what only a primary runs (the contract's
 * primaryOnly methods, app/facade/seats_files.go).
 *
 * The link's state comes from the seat:connection event: while the primary
 * is away every call fails at once and the UI says so in a banner; nothing
 * is queued. On the primary's window and in a single-PC branch no such
 * event comes and nothing shows.
 */
export const useSeatLink = defineStore('seatLink', () => {
  /** connecting, connected, away, refused; null: no news (not a seat). */
  const state = ref<string | null>(null)
  /** The message code of away or refused. */
  const code = ref('')
  const down = computed(() => state.value === 'away' || state.value === 'refused')

  /** This installation's role; null until read (then taken as a primary's:
   *  the primary refuses a seat's primary-only calls anyway). */
  const role = ref<SeatRoleInfo | null>(null)
  const isSeat = computed(() => role.value?.role === 'seat')
  /** This seat's name at its primary (「窓口2」); '' on a primary. */
  const seatName = computed(() => (isSeat.value ? (role.value?.seat ?? '') : ''))

  let loading: Promise<void> | null = null
  /** Reads the role once; later calls share the first read. A failed read
   *  is tried again on the next call. */
  function loadRole(): Promise<void> {
    loading ??= api
      .SeatRole()
      .then((r) => {
        role.value = r
      })
      .catch(() => {
        loading = null
      })
    return loading
  }

  /** False for a method only a primary runs, on a seat: its control is
   *  hidden there (not only refused). */
  function allowed(method: MethodName): boolean {
    return !(isSeat.value && methodInfo[method].primaryOnly)
  }

  /** Starts following the link. Once (re)connected the session is read
   *  again: a primary that restarted has ended it (the sign-in screen
   *  shows), and a page that loaded before the link was up failed to read it. */
  function follow(): Unsubscribe {
    void loadRole()
    return onEvent('seat:connection', (c) => {
      state.value = c.state
      code.value = c.code
      if (c.state === 'connected') void useSession().load()
    })
  }

  return { state, code, down, role, isSeat, seatName, loadRole, allowed, follow }
})
