import { api, type UpdateCheck } from '../api'

/**
 * Checks IT's update location once per app start, a little after sign-in,
 * and tells the user when a verified update is waiting (the About screen
 * installs it, with a confirmation). Nothing is installed from here, and
 * any failure stays silent: the About screen shows the reason when asked.
 */
export function remindOfUpdates(
  tell: (check: UpdateCheck) => void,
  delayMs = 30_000,
  client: Pick<typeof api, 'AppVersion' | 'CheckForUpdate'> = api,
): () => void {
  const timer = setTimeout(async () => {
    try {
      const info = await client.AppVersion()
      if (!info.updateConfigured || !info.numeric) return
      const check = await client.CheckForUpdate()
      if (check.status === 'available' && check.offer) tell(check)
    } catch {
      // Offline, share unreachable, signed out: the About screen explains.
    }
  }, delayMs)
  return () => clearTimeout(timer)
}
