import { beforeEach, describe, expect, it } from 'vitest'
import { setTransport } from '../../src/api'
import type { Transport } from '../../src/api/transport'
import type { AuthState } from '../../src/api'
import { createPinia, setActivePinia } from 'pinia'
import { HEARTBEAT_INTERVAL_MS, useSession } from '../../src/stores/session'

const signedIn: AuthState = {
  firstRun: false,
  signedIn: true,
  locked: false,
  staff: { login: 'tanaka', displayName: '田中', role: 'operator' },
  permissions: ['inbox.read', 'inbox.reply'],
  idleMinutes: 5,
  masked: false,
  mustChangePassword: false,
}

function backend(handlers: Record<string, (...a: unknown[]) => unknown>) {
  const calls: string[] = []
  const t: Transport = {
    kind: 'http',
    call: async (method, args) => {
      calls.push(method)
      const h = handlers[method]
      if (!h) throw { error: 'errors.notFound' }
      return h(...args)
    },
    on: () => () => {},
    onConnection: () => () => {},
  }
  setTransport(t)
  return calls
}

describe('session store', () => {
  let session: ReturnType<typeof useSession>
  beforeEach(() => {
    setActivePinia(createPinia())
    session = useSession()
  })

  it('signs in and knows the role permissions', async () => {
    backend({ SignIn: () => signedIn })
    await session.signIn('tanaka', 'pw')
    expect(session.state?.staff?.role).toBe('operator')
    expect(session.can('inbox.reply')).toBe(true)
    expect(session.can('staff')).toBe(false)
  })

  it('reports input at most once per interval, and not while locked', async () => {
    const calls = backend({ AuthState: () => signedIn, Heartbeat: () => null })
    await session.load()
    session.reportActivity(1_000_000)
    session.reportActivity(1_000_000 + 1000)
    session.reportActivity(1_000_000 + HEARTBEAT_INTERVAL_MS + 1)
    expect(calls.filter((c) => c === 'Heartbeat')).toHaveLength(2)
    session.state = { ...signedIn, locked: true }
    session.reportActivity(1_000_000 + 3 * HEARTBEAT_INTERVAL_MS)
    expect(calls.filter((c) => c === 'Heartbeat')).toHaveLength(2)
  })

  it('shows the lock screen when any call fails with sessionLocked', async () => {
    backend({
      AuthState: () => signedIn,
      Conversations: () => {
        throw { error: 'errors.sessionLocked' }
      },
    })
    await session.load()
    const stop = session.watch()
    const { api } = await import('../../src/api')
    await expect(api.Conversations()).rejects.toBeTruthy()
    expect(session.state?.locked).toBe(true)
    stop()
  })

  it('reloads the state when the session ended elsewhere', async () => {
    let ended = false
    backend({
      AuthState: () => (ended ? { ...signedIn, signedIn: false, staff: undefined, permissions: [] } : signedIn),
      ListStaff: () => {
        ended = true
        throw { error: 'errors.sessionEnded' }
      },
    })
    await session.load()
    const stop = session.watch()
    const { api } = await import('../../src/api')
    await expect(api.ListStaff()).rejects.toBeTruthy()
    await new Promise((r) => setTimeout(r, 0))
    expect(session.state?.signedIn).toBe(false)
    stop()
  })
})
