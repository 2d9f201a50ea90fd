import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Status } from '../api'

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

  return { current, refresh, saveChannel, clearChannel }
})
