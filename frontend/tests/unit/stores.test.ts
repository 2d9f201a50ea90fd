// The cross-view stores over the generated API (src/stores).
import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { setTransport, type EngineLineStatus, type Status, type Transport } from '../../src/api'
import { useRichMenus } from '../../src/stores/richMenus'
import { useLineStatus } from '../../src/stores/lineStatus'
import { useAppStatus } from '../../src/stores/appStatus'
import { useSeatLink } from '../../src/stores/seatLink'

function backend(methods: Record<string, (...a: unknown[]) => unknown>) {
  const calls: string[] = []
  const handlers = new Map<string, Set<(p: unknown) => void>>()
  const t: Transport = {
    kind: 'http',
    call: async (method, args) => {
      calls.push(method)
      const fn = methods[method]
      if (!fn) throw { error: 'errors.notFound' }
      return fn(...args)
    },
    on: (name, cb) => {
      if (!handlers.has(name)) handlers.set(name, new Set())
      handlers.get(name)!.add(cb)
      return () => handlers.get(name)!.delete(cb)
    },
    onConnection: () => () => {},
  }
  setTransport(t)
  const emit = (name: string, p: unknown) => handlers.get(name)?.forEach((cb) => cb(p))
  return { calls, emit, handlers }
}

const settle = () => new Promise((r) => setTimeout(r, 0))

const lineOK: EngineLineStatus = {
  reachable: true, downSince: 0, down: [], pendingProfiles: 0, pendingContent: 0, gone: 0, waitingSends: 0, waitingBroadcasts: 0, sandbox: true,
}

beforeEach(() => setActivePinia(createPinia()))

describe('stores', () => {
  it('seat link: the role is read once at start; on a seat the primary-only methods are not allowed', async () => {
    const { calls } = backend({ SeatRole: () => ({ role: 'seat', seat: '窓口2', primary: '192.168.1.20:7443', primaryFingerprint: '0412-7735-9018-2264' }) })
    const link = useSeatLink()
    expect(link.allowed('SetBackupSettings')).toBe(true) // not read yet: the primary refuses anyway
    const stop = link.follow()
    await link.loadRole()
    stop()
    expect(calls.filter((m) => m === 'SeatRole')).toEqual(['SeatRole'])
    expect(link.isSeat).toBe(true)
    expect(link.seatName).toBe('窓口2')
    for (const m of ['SetBackupSettings', 'PickBackupFolder', 'RestoreKeyFromCode', 'CheckForUpdate', 'InstallUpdate', 'SetSeatPort', 'AllowSeatFirewall'] as const) {
      expect(link.allowed(m), m).toBe(false)
    }
    for (const m of ['BackupNow', 'IssueSeatCode', 'RevokeSeat', 'SeatAdmin', 'Conversations'] as const) expect(link.allowed(m), m).toBe(true)
  })

  it('seat link: a primary allows everything and names no seat', async () => {
    backend({ SeatRole: () => ({ role: 'primary', seat: '', primary: '', primaryFingerprint: '' }) })
    const link = useSeatLink()
    await link.loadRole()
    expect(link.isSeat).toBe(false)
    expect(link.seatName).toBe('')
    expect(link.allowed('SetBackupSettings')).toBe(true)
    expect(link.allowed('CheckForUpdate')).toBe(true)
  })

  it('rich menus: a publish or sync is one change other views follow', () => {
    const rm = useRichMenus()
    expect(rm.revision).toBe(0)
    rm.changed()
    rm.changed()
    expect(rm.revision).toBe(2)
  })

  it('LINE status: followed while someone shows it, refreshed on its event, shown when LINE is down', async () => {
    let st = lineOK
    const be = backend({ LineStatus: () => st })
    const ls = useLineStatus()
    const a = ls.follow()
    const b = ls.follow() // a second follower subscribes nothing more
    await settle()
    expect(be.calls.filter((c) => c === 'LineStatus')).toHaveLength(1)
    expect(be.handlers.get('inbox:lineStatus')?.size).toBe(1)
    expect(ls.visible).toBe(false)

    st = { ...lineOK, reachable: false, downSince: 1, pendingContent: 2, waitingSends: 1 }
    be.emit('inbox:lineStatus', { reachable: false })
    await settle()
    expect(ls.down).toBe(true)
    expect(ls.visible).toBe(true)
    expect([ls.fetches, ls.sends]).toEqual([2, 1])

    a()
    a() // twice is once
    expect(be.handlers.get('inbox:lineStatus')?.size).toBe(1)
    b()
    expect(be.handlers.get('inbox:lineStatus')?.size).toBe(0)
    const n = be.calls.length
    be.emit('inbox:lineStatus', { reachable: true })
    await settle()
    expect(be.calls.length).toBe(n)
  })

  it('app status: the channel calls update the one status every view reads', async () => {
    const live: Status = { sandbox: false, channelConfigured: true, tokenHint: '…abcd', version: 'v', dataDir: '/d', staffName: '', rejectedWebhooks: 0, error: '' }
    backend({ Status: () => ({ ...live, sandbox: true, channelConfigured: false }), SaveChannel: () => live })
    const s = useAppStatus()
    await s.refresh()
    expect(s.current?.sandbox).toBe(true)
    await s.saveChannel('secret', 'token')
    expect(s.current).toEqual(live)
  })
})
