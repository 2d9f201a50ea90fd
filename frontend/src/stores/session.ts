import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, toApiError, type AuthState } from '../api'
import { onSessionError } from '../api/session-errors'
import { useDrafts } from './drafts'

/** Minimum time between two heartbeats: input is reported, not every key. */
export const HEARTBEAT_INTERVAL_MS = 20_000

/**
 * Who is signed in to this window, and whether the screen is locked. The
 * Go side enforces everything (every bound method checks the session and
 * the role); this store only chooses the screen: first-run setup, sign-in,
 * the lock screen, or the app.
 */
export const useSession = defineStore('session', () => {
  const loaded = ref(false)
  /** Set when AuthState itself failed (e.g. the engine did not start). */
  const error = ref<unknown>(null)
  const state = ref<AuthState | null>(null)
  let lastBeat = 0

  function can(permission: string): boolean {
    return state.value?.permissions.includes(permission) ?? false
  }

  // Loads can overlap (a failing background call asks for one while the
  // screen asks for another after a password change): only the latest
  // one's answer counts, so a stale state cannot bring a screen back.
  let loadSeq = 0
  async function load(): Promise<void> {
    const mine = ++loadSeq
    try {
      const st = await api.AuthState()
      if (mine !== loadSeq) return
      state.value = st
      error.value = null
    } catch (err) {
      if (mine === loadSeq) error.value = toApiError(err)
    } finally {
      loaded.value = true
    }
  }

  // Drafts a lock interrupted are written once their author is back;
  // another person's are dropped unseen.
  function resumeDrafts() {
    const drafts = useDrafts()
    drafts.forgetOthers()
    void drafts.flush()
  }

  async function signIn(login: string, password: string): Promise<void> {
    state.value = await api.SignIn(login, password)
    resumeDrafts()
  }

  async function unlock(password: string): Promise<void> {
    state.value = await api.Unlock(password)
    resumeDrafts()
  }

  // Before the session ends, what the person typed is written (issue 19):
  // after a lock or a sign-out it is no longer allowed to.
  async function signOut(): Promise<void> {
    await useDrafts().flush().catch(() => {})
    try {
      await api.SignOut()
    } finally {
      await load()
    }
  }

  async function lock(): Promise<void> {
    await useDrafts().flush().catch(() => {})
    await api.Lock()
    await load()
  }

  /**
   * Called on user input (keys, clicks, pointer moves). The Go side locks the
   * session after the idle timeout unless it hears of input; background
   * refreshes do not count, so an unattended screen locks.
   */
  function reportActivity(now = Date.now()): void {
    const st = state.value
    if (!st?.signedIn || st.locked || now - lastBeat < HEARTBEAT_INTERVAL_MS) return
    lastBeat = now
    api.Heartbeat().catch(() => {
      /* session errors reach onSessionError below */
    })
  }

  /** Starts listening for session failures of any call. */
  function watch(): () => void {
    return onSessionError((code) => {
      if (code === 'errors.sessionLocked' && state.value?.signedIn) {
        state.value = { ...state.value, locked: true }
        return
      }
      void load()
    })
  }

  return { loaded, error, state, can, load, signIn, unlock, signOut, lock, reportActivity, watch }
})
