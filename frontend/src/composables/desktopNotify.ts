import { watch, type Ref, type WatchStopHandle } from 'vue'
import { notifyRuntime, type NotifyRuntime } from '../api/notifications'

/**
 * Sound and desktop notifications for new customer messages, in the desktop
 * window and in a browser alike.
 *
 * - The OS notification goes through Wails' native notifications (Windows
 *   toast, macOS Notification Center, Linux D-Bus) in the window, and
 *   through the web Notification API without Wails' runtime (the dev bridge
 *   in a browser). Before, the browser got nothing at all: without the
 *   runtime the watcher returned at once. It is shown only while the window
 *   is hidden, minimised or in the background: in front, the unread badge,
 *   the list and the sound are enough.
 * - A short chime plays whenever the unread count rises, in front too (a
 *   clerk on the customers screen hears it), as LINE Official Account
 *   Manager does.
 *
 * Each can be turned off per staff member (stores/alerts.ts). The text names
 * no customer and quotes no message (it can show on a lock screen, and a
 * masked role must not see more than the window shows): just the count.
 *
 * The inbox keeps refreshing while the window is minimised (the Go engine
 * syncs regardless of the window, and its `inbox:changed` events reach the
 * page), so the unread count this watches stays current.
 */

export type { NotifyRuntime }

/** The web Notification API, as far as it is used here. */
export interface WebNotify {
  permission: NotificationPermission
  requestPermission(): Promise<NotificationPermission>
  new (title: string, options?: NotificationOptions): unknown
}

/** What the staff member wants to be told about new messages. */
export interface AlertPrefs {
  sound: boolean
  desktop: boolean
}

export interface AlertOptions {
  /** The current preferences (read at every rise, so a change applies at once). */
  prefs?: () => AlertPrefs
  /** Plays the chime. */
  chime?: () => void
  /** The web Notification API, used without Wails' runtime. */
  web?: WebNotify
}

/** Whether the window is out of the user's sight. */
export function windowInBackground(doc: Pick<Document, 'hidden' | 'hasFocus'> = document): boolean {
  return doc.hidden || !doc.hasFocus()
}

/** A notification is due when the unread count went up while in the background. */
export function shouldNotify(prev: number, next: number, background: boolean): boolean {
  return background && next > prev
}

/** The browser's Notification API, if any. */
export function webNotify(): WebNotify | undefined {
  const n = (globalThis as { Notification?: WebNotify }).Notification
  return typeof n === 'function' ? n : undefined
}

let audio: AudioContext | null = null
/**
 * A short two-note chime made with Web Audio: no sound file to ship or
 * fetch. Browsers and WebViews only let a page play sound after the user
 * interacted with it, which a signed-in clerk has.
 */
export function playChime(): void {
  const Ctx = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext
  if (!Ctx) return
  try {
    audio ??= new Ctx()
    if (audio.state === 'suspended') void audio.resume().catch(() => {})
    const t0 = audio.currentTime
    for (const [i, freq] of [880, 1320].entries()) {
      const osc = audio.createOscillator()
      const gain = audio.createGain()
      osc.type = 'sine'
      osc.frequency.value = freq
      const at = t0 + i * 0.14
      gain.gain.setValueAtTime(0.0001, at)
      gain.gain.exponentialRampToValueAtTime(0.18, at + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.3)
      osc.connect(gain).connect(audio.destination)
      osc.start(at)
      osc.stop(at + 0.32)
    }
  } catch {
    // No audio device: the badge and the notification still tell.
  }
}

/**
 * Starts watching the unread count; returns a stop function. With neither
 * Wails' runtime nor the web API there is no notification, but the chime
 * still plays.
 */
export function startDesktopNotifications(
  unread: Ref<number>,
  text: (count: number) => { title: string; body: string },
  runtime: NotifyRuntime | undefined = notifyRuntime(),
  background: () => boolean = () => windowInBackground(),
  opts: AlertOptions = {},
): WatchStopHandle {
  const prefs = opts.prefs ?? (() => ({ sound: false, desktop: true }))
  const chime = opts.chime ?? playChime
  // Looked up when needed: a WebView may install it after the page started.
  const webApi = () => ('web' in opts ? opts.web : webNotify())
  const native = runtime && typeof runtime.SendNotification === 'function' ? runtime : undefined

  // Initialised once, lazily; on macOS (and in a browser) this asks the
  // user for permission.
  let ready: Promise<boolean> | null = null
  const init = (): Promise<boolean> =>
    (ready ??= native
      ? Promise.resolve(native.InitializeNotifications?.())
          .then(() => native.RequestNotificationAuthorization?.() ?? true)
          .catch(() => false)
      : webApi()
        ? (webApi()!.permission === 'default' ? webApi()!.requestPermission() : Promise.resolve(webApi()!.permission))
            .then((p) => p === 'granted')
            .catch(() => false)
        : Promise.resolve(false)).then((ok) => {
      // A browser's answer can change later (the user allows it in the
      // site settings): ask again next time rather than remember a no.
      if (!ok && !native) ready = null
      return ok
    })

  const show = (n: number) => {
    const { title, body } = text(n)
    // One id/tag: a newer notification replaces the older one instead of piling up.
    if (native) return native.SendNotification!.call(native, { id: 'tsunagu-unread', title, body })
    const Web = webApi()
    if (Web) new Web(title, { body, tag: 'tsunagu-unread', silent: true })
  }

  let last = unread.value
  return watch(unread, (next) => {
    const prev = last
    last = next
    if (next <= prev) return
    const p = prefs()
    if (p.sound) chime()
    if (!p.desktop || !shouldNotify(prev, next, background())) return
    void init()
      .then((ok) => (ok ? show(next) : undefined))
      .catch(() => {})
  })
}
