import { describe, expect, it, vi } from 'vitest'
import { nextTick, ref } from 'vue'
import { shouldNotify, startDesktopNotifications, windowInBackground, type WebNotify } from '../../src/composables/desktopNotify'

const flush = async () => {
  await nextTick()
  await new Promise((r) => setTimeout(r, 0))
}

describe('desktop notifications', () => {
  it('are due only when the unread count rises in the background', () => {
    expect(shouldNotify(2, 3, true)).toBe(true)
    expect(shouldNotify(2, 3, false)).toBe(false)
    expect(shouldNotify(3, 3, true)).toBe(false)
    expect(shouldNotify(3, 1, true)).toBe(false)
  })

  it('treat a hidden or unfocused window as background', () => {
    expect(windowInBackground({ hidden: true, hasFocus: () => true })).toBe(true)
    expect(windowInBackground({ hidden: false, hasFocus: () => false })).toBe(true)
    expect(windowInBackground({ hidden: false, hasFocus: () => true })).toBe(false)
  })

  it('send a count-only notification while hidden, nothing while in front', async () => {
    const unread = ref(1)
    let background = true
    const runtime = {
      InitializeNotifications: vi.fn(async () => {}),
      RequestNotificationAuthorization: vi.fn(async () => true),
      SendNotification: vi.fn(async () => {}),
    }
    const stop = startDesktopNotifications(unread, (n) => ({ title: 'つなぐ', body: `未読 ${n} 件` }), runtime, () => background)
    unread.value = 2
    await flush()
    expect(runtime.SendNotification).toHaveBeenCalledTimes(1)
    expect(runtime.SendNotification).toHaveBeenLastCalledWith({ id: 'tsunagu-unread', title: 'つなぐ', body: '未読 2 件' })
    expect(runtime.InitializeNotifications).toHaveBeenCalledTimes(1)

    unread.value = 0 // read elsewhere
    await flush()
    background = false
    unread.value = 1 // in front: no notification
    await flush()
    expect(runtime.SendNotification).toHaveBeenCalledTimes(1)

    background = true
    unread.value = 4
    await flush()
    expect(runtime.SendNotification).toHaveBeenCalledTimes(2)
    expect(runtime.InitializeNotifications).toHaveBeenCalledTimes(1)
    stop()
    unread.value = 9
    await flush()
    expect(runtime.SendNotification).toHaveBeenCalledTimes(2)
  })

  it('stay silent when the user declined them', async () => {
    const unread = ref(0)
    const runtime = {
      InitializeNotifications: vi.fn(async () => {}),
      RequestNotificationAuthorization: vi.fn(async () => false),
      SendNotification: vi.fn(async () => {}),
    }
    startDesktopNotifications(unread, () => ({ title: 't', body: 'b' }), runtime, () => true)
    unread.value = 1
    await flush()
    expect(runtime.SendNotification).not.toHaveBeenCalled()
  })

  it('use the web Notification API without the Wails runtime (browser), asking once for permission', async () => {
    const unread = ref(0)
    const shown: Array<{ title: string; body?: string; tag?: string }> = []
    const requestPermission = vi.fn(async () => 'granted' as NotificationPermission)
    const web = Object.assign(
      function (this: unknown, title: string, o?: NotificationOptions) {
        shown.push({ title, body: o?.body, tag: o?.tag })
      },
      { permission: 'default' as NotificationPermission, requestPermission },
    ) as unknown as WebNotify
    startDesktopNotifications(unread, (n) => ({ title: 'つなぐ', body: `新しいメッセージ（${n} 件）` }), undefined, () => true, { web })
    unread.value = 2
    await flush()
    expect(requestPermission).toHaveBeenCalledTimes(1)
    expect(shown).toEqual([{ title: 'つなぐ', body: '新しいメッセージ（2 件）', tag: 'tsunagu-unread' }])
  })

  it('do nothing visible with neither the runtime nor the web API', async () => {
    const unread = ref(0)
    const chime = vi.fn()
    const stop = startDesktopNotifications(unread, () => ({ title: '', body: '' }), undefined, () => true, { web: undefined, chime })
    unread.value = 1
    await flush()
    expect(chime).not.toHaveBeenCalled() // sound is off unless the preferences say so
    expect(typeof stop).toBe('function')
  })

  it('chime on every rise, in front too, and follow the staff member\'s switches', async () => {
    const unread = ref(0)
    const prefs = { sound: true, desktop: true }
    const chime = vi.fn()
    const runtime = { SendNotification: vi.fn(async () => {}) }
    let background = false
    startDesktopNotifications(unread, () => ({ title: 't', body: 'b' }), runtime, () => background, { prefs: () => prefs, chime })
    unread.value = 1 // in front: a chime, no notification
    await flush()
    expect(chime).toHaveBeenCalledTimes(1)
    expect(runtime.SendNotification).not.toHaveBeenCalled()
    background = true
    unread.value = 2
    await flush()
    expect(chime).toHaveBeenCalledTimes(2)
    expect(runtime.SendNotification).toHaveBeenCalledTimes(1)
    unread.value = 1 // read: silence
    await flush()
    expect(chime).toHaveBeenCalledTimes(2)
    prefs.sound = false
    prefs.desktop = false
    unread.value = 3
    await flush()
    expect(chime).toHaveBeenCalledTimes(2)
    expect(runtime.SendNotification).toHaveBeenCalledTimes(1)
  })
})
