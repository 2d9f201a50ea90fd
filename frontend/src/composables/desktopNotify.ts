import { watch, type Ref, type WatchStopHandle } from 'vue'
import { notifyRuntime, type NotifyRuntime } from '../api/notifications'

/**
 * Desktop notifications for new customer messages, through Wails' native
 * notifications (Windows toast, macOS Notification Center, Linux D-Bus),
 * shown only while the window is hidden, minimised or in the background: in
 * front, the unread badge and the list are enough. The text names no
 * customer and quotes no message (it can show on a lock screen, and a masked
 * role must not see more than the window shows): just the unread count.
 *
 * The inbox keeps refreshing while the window is minimised (the Go engine
 * syncs regardless of the window, and its `inbox:changed` events reach the
 * page), so the unread count this watches stays current.
 */

export type { NotifyRuntime }

/** Whether the window is out of the user's sight. */
export function windowInBackground(doc: Pick<Document, 'hidden' | 'hasFocus'> = document): boolean {
  return doc.hidden || !doc.hasFocus()
}

/** A notification is due when the unread count went up while in the background. */
export function shouldNotify(prev: number, next: number, background: boolean): boolean {
  return background && next > prev
}

/**
 * Starts watching the unread count; returns a stop function. Without Wails'
 * runtime (the dev bridge, tests) it does nothing.
 */
export function startDesktopNotifications(
  unread: Ref<number>,
  text: (count: number) => { title: string; body: string },
  runtime: NotifyRuntime | undefined = notifyRuntime(),
  background: () => boolean = () => windowInBackground(),
): WatchStopHandle {
  const send = runtime?.SendNotification
  if (!runtime || typeof send !== 'function') return () => {}
  // Initialised once, lazily; on macOS this asks the user for permission.
  let ready: Promise<boolean> | null = null
  const init = () =>
    (ready ??= Promise.resolve(runtime.InitializeNotifications?.())
      .then(() => runtime.RequestNotificationAuthorization?.() ?? true)
      .catch(() => false))
  let last = unread.value
  return watch(unread, (next) => {
    const prev = last
    last = next
    if (!shouldNotify(prev, next, background())) return
    void init().then((ok) => {
      if (!ok) return
      const { title, body } = text(next)
      // One id: a newer notification replaces the older one instead of piling up.
      return send.call(runtime, { id: 'tsunagu-unread', title, body })
    }).catch(() => {})
  })
}
