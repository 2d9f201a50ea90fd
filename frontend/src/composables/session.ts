import { reactive } from 'vue'
import { api, toApiError, type AuthState } from '../api'
import { onSessionError } from '../api/session-errors'

/**
 * Who is signed in to this window, and whether the screen is locked. The
 * Go side enforces everything (every bound method checks the session and
 * the role); this store only chooses the screen: first-run setup, sign-in,
 * the lock screen, or the app.
 */
export const session = reactive({
  loaded: false,
  /** Set when AuthState itself failed (e.g. the engine did not start). */
  error: null as unknown,
  state: null as AuthState | null,
})

export function can(permission: string): boolean {
  return session.state?.permissions.includes(permission) ?? false
}

export async function loadSession(): Promise<void> {
  try {
    session.state = await api.AuthState()
    session.error = null
  } catch (err) {
    session.error = toApiError(err)
  } finally {
    session.loaded = true
  }
}

export async function signIn(login: string, password: string): Promise<void> {
  session.state = await api.SignIn(login, password)
}

export async function unlock(password: string): Promise<void> {
  session.state = await api.Unlock(password)
}

export async function signOut(): Promise<void> {
  try {
    await api.SignOut()
  } finally {
    await loadSession()
  }
}

export async function lockNow(): Promise<void> {
  await api.Lock()
  await loadSession()
}

/** Minimum time between two heartbeats: input is reported, not every key. */
export const HEARTBEAT_INTERVAL_MS = 20_000

let lastBeat = 0
/**
 * Called on user input (keys, clicks, pointer moves). The Go side locks the
 * session after the idle timeout unless it hears of input; background
 * refreshes do not count, so an unattended screen locks.
 */
export function reportActivity(now = Date.now()): void {
  const st = session.state
  if (!st?.signedIn || st.locked || now - lastBeat < HEARTBEAT_INTERVAL_MS) return
  lastBeat = now
  api.Heartbeat().catch(() => {
    /* session errors reach onSessionError below */
  })
}

/** Starts listening for session failures of any call. */
export function watchSession(): () => void {
  return onSessionError((code) => {
    if (code === 'errors.sessionLocked' && session.state?.signedIn) {
      session.state = { ...session.state, locked: true }
      return
    }
    void loadSession()
  })
}

/** For tests. */
export function resetSessionForTest(): void {
  session.loaded = false
  session.error = null
  session.state = null
  lastBeat = 0
}
