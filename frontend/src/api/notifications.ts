/**
 * Wails' native notifications (Windows toast, macOS Notification Center,
 * Linux D-Bus). Like every other touch of the Wails runtime, the lookup lives
 * here in src/api; without the runtime (the dev bridge, tests) there is none.
 */

/** The part of Wails' window.runtime used for notifications. */
export interface NotifyRuntime {
  InitializeNotifications?: () => Promise<void>
  RequestNotificationAuthorization?: () => Promise<boolean>
  SendNotification?: (o: { id: string; title: string; body?: string }) => Promise<void>
}

/** The window's notification runtime, or undefined outside the desktop app. */
export function notifyRuntime(): NotifyRuntime | undefined {
  return (globalThis as { runtime?: NotifyRuntime }).runtime
}
