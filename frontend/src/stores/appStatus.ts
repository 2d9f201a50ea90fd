import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Status } from '../api'
import { useSession } from './session'

/**
 * The running app as the header, banner, settings and inbox show it:
 * sandbox or live, the channel, and why the engine did not start (a message
 * code in error). The inbox (composables/inbox.ts) follows status:changed.
 */
export const useAppStatus = defineStore('appStatus', () => {
  const current = ref<Status | null>(null)

  async function refresh(): Promise<void> {
    current.value = await api.Status()
  }

  async function saveChannel(secret: string, token: string): Promise<Status> {
    current.value = await api.SaveChannel(secret, token)
    return current.value
  }

  async function clearChannel(): Promise<Status> {
    current.value = await api.ClearChannel()
    return current.value
  }

  /** 再試行 on the start error screen: the Go side starts the engine again
   * (not only re-reads the saved error). */
  async function retryStart(): Promise<Status> {
    return started(await api.RetryStart())
  }

  /** Puts a lost database key back from the recovery code and starts the
   * engine (only while it is not running; audited). */
  async function restoreKey(code: string): Promise<Status> {
    return started(await api.RestoreKeyFromCode(code))
  }

  // Once the engine runs, the session chooses the screen (sign-in) before
  // the shell sees the new status: it would otherwise mount the views
  // without a session for a moment.
  async function started(st: Status): Promise<Status> {
    if (!st.error) await useSession().load()
    current.value = st
    return st
  }

  return { current, refresh, saveChannel, clearChannel, retryStart, restoreKey }
})
