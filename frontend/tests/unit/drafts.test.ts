import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApp, defineComponent, h, nextTick, ref } from 'vue'
import { useDraft } from '../../src/composables/useDraft'
import { setTransport, type AuthState } from '../../src/api'
import type { Transport } from '../../src/api/transport'
import { DRAFT_DEBOUNCE_MS, useDrafts } from '../../src/stores/drafts'
import { useSession } from '../../src/stores/session'

const tanaka: AuthState = {
  firstRun: false,
  signedIn: true,
  locked: false,
  staff: { login: 'tanaka', displayName: '田中', role: 'operator' },
  permissions: ['inbox.read', 'inbox.reply'],
  idleMinutes: 5,
  masked: false,
  mustChangePassword: false,
}

/** A fake Go side holding drafts per signed-in login, refusing while locked. */
function backend() {
  const db = new Map<string, string>()
  const calls: string[] = []
  let who = 'tanaka'
  let locked = false
  let getHold: Promise<void> | undefined // a slow GetDraft answers when it settles
  const t: Transport = {
    kind: 'http',
    call: async (method, args) => {
      calls.push(method)
      const a = args as string[]
      if (['SaveDraft', 'DeleteDraft', 'GetDraft', 'ListDrafts'].includes(method) && locked) throw { error: 'errors.sessionLocked' }
      switch (method) {
        case 'SaveDraft':
          db.set(`${who}/${a[0]}/${a[1]}`, a[2] as string)
          return { kind: a[0], key: a[1], body: a[2], updatedAt: 1 }
        case 'DeleteDraft':
          db.delete(`${who}/${a[0]}/${a[1]}`)
          return null
        case 'GetDraft':
          if (getHold) await getHold
          return { kind: a[0], key: a[1], body: db.get(`${who}/${a[0]}/${a[1]}`) ?? '', updatedAt: 0 }
        case 'ListDrafts':
          return [...db].filter(([k]) => k.startsWith(`${who}/${a[0]}/`)).map(([k, body]) => ({ kind: a[0], key: k.split('/')[2], body, updatedAt: 1 }))
        case 'Lock':
          locked = true
          return null
        case 'AuthState':
          return { ...tanaka, locked }
        case 'Unlock':
          locked = false
          return tanaka
        case 'SignIn':
          who = a[0] as string
          locked = false
          return { ...tanaka, staff: { login: who, displayName: who, role: 'operator' } }
      }
      throw { error: 'errors.notFound' }
    },
    on: () => () => {},
    onConnection: () => () => {},
  }
  setTransport(t)
  return { db, calls, lockNow: () => (locked = true), holdGet: (p: Promise<void>) => (getHold = p) }
}

describe('drafts store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.useFakeTimers()
  })
  afterEach(() => vi.useRealTimers())

  it('saves after the person stops typing, once', async () => {
    const be = backend()
    useSession().state = tanaka
    const drafts = useDrafts()
    drafts.schedule('reply', '7', '"お世"')
    drafts.schedule('reply', '7', '"お世話になっております"')
    expect(be.calls).not.toContain('SaveDraft')
    await vi.advanceTimersByTimeAsync(DRAFT_DEBOUNCE_MS)
    expect(be.calls.filter((c) => c === 'SaveDraft')).toHaveLength(1)
    expect(be.db.get('tanaka/reply/7')).toBe('"お世話になっております"')
    // The same text again is not rewritten; an emptied editor deletes.
    drafts.schedule('reply', '7', '"お世話になっております"')
    await vi.advanceTimersByTimeAsync(DRAFT_DEBOUNCE_MS)
    expect(be.calls.filter((c) => c === 'SaveDraft')).toHaveLength(1)
    drafts.schedule('reply', '7', '')
    await vi.advanceTimersByTimeAsync(DRAFT_DEBOUNCE_MS)
    expect(be.db.has('tanaka/reply/7')).toBe(false)
  })

  it('writes what waits before a manual lock and before sign-out', async () => {
    const be = backend()
    const session = useSession()
    session.state = tanaka
    const drafts = useDrafts()
    drafts.schedule('campaign', 'new', '{"name":"秋"}')
    await session.lock()
    expect(be.db.get('tanaka/campaign/new')).toBe('{"name":"秋"}')
    expect(be.calls.indexOf('SaveDraft')).toBeLessThan(be.calls.indexOf('Lock'))
  })

  it('keeps a save the lock refused and writes it after the unlock', async () => {
    const be = backend()
    const session = useSession()
    session.state = tanaka
    const drafts = useDrafts()
    drafts.schedule('reply', '3', '"途中"')
    be.lockNow() // the idle lock applied on the Go side first
    await vi.advanceTimersByTimeAsync(DRAFT_DEBOUNCE_MS)
    expect(be.db.has('tanaka/reply/3')).toBe(false)
    expect(drafts.waiting('reply', '3')).toBe('"途中"')
    await session.unlock('pw')
    await vi.runAllTimersAsync()
    expect(be.db.get('tanaka/reply/3')).toBe('"途中"')
  })

  it('reports a draft the Go side refuses as too large and keeps it waiting', async () => {
    backend()
    setTransport({
      kind: 'http',
      call: async () => {
        throw { error: 'errors.draftTooLarge' }
      },
      on: () => () => {},
      onConnection: () => () => {},
    })
    useSession().state = tanaka
    const drafts = useDrafts()
    drafts.schedule('campaign', 'new', '{"name":"大きな下書き"}')
    await vi.advanceTimersByTimeAsync(DRAFT_DEBOUNCE_MS)
    expect((drafts.lastError?.err as { error: string }).error).toBe('errors.draftTooLarge')
    expect(drafts.waiting('campaign', 'new')).toBe('{"name":"大きな下書き"}')
  })

  it('never hands one person’s waiting draft to another', async () => {
    const be = backend()
    const session = useSession()
    session.state = tanaka
    const drafts = useDrafts()
    drafts.schedule('reply', '3', '"田中の下書き"')
    be.lockNow()
    await vi.advanceTimersByTimeAsync(DRAFT_DEBOUNCE_MS)
    await session.signIn('sato', 'pw')
    await vi.runAllTimersAsync()
    expect(drafts.waiting('reply', '3')).toBeUndefined()
    expect(await drafts.load('reply', '3')).toBe('')
    expect([...be.db.keys()].some((k) => k.startsWith('sato/'))).toBe(false)
  })
})

describe('useDraft', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => vi.useRealTimers())

  /** Mounts one note editor over the conversation `key`. */
  function mountEditor(key: ReturnType<typeof ref<string>>) {
    const pinia = createPinia()
    setActivePinia(pinia)
    useSession().state = tanaka
    const text = ref('')
    let api: ReturnType<typeof useDraft<string>> | undefined
    const Editor = defineComponent({
      setup() {
        api = useDraft('note', () => key.value as string, { read: () => text.value, apply: (v: string) => (text.value = v) })
        return () => h('div')
      },
    })
    const app = createApp(Editor)
    app.use(pinia)
    app.mount(document.createElement('div'))
    return { text, kept: api!, app }
  }
  const settle = async () => {
    await vi.advanceTimersByTimeAsync(DRAFT_DEBOUNCE_MS + 10)
    await nextTick()
  }

  it('restores, saves per record when the record changes, and starts again after a save', async () => {
    const be = backend()
    be.db.set('tanaka/note/1', '"会話 1 のメモ"')
    const key = ref('1')
    const { text, kept, app } = mountEditor(key)
    await settle()
    expect(text.value).toBe('会話 1 のメモ')
    expect(kept.hasDraft.value).toBe(true)

    text.value = '会話 1 のメモ（追記）'
    await nextTick()
    key.value = '2' // another conversation opened before the debounce
    await settle()
    expect(be.db.get('tanaka/note/1')).toBe('"会話 1 のメモ（追記）"')
    expect(text.value).toBe('') // conversation 2 has no draft: not 1's text
    expect(be.db.has('tanaka/note/2')).toBe(false)

    text.value = '会話 2 のメモ'
    await settle()
    expect(be.db.get('tanaka/note/2')).toBe('"会話 2 のメモ"')

    // Saved for real: the draft goes, and the next note is kept again.
    await kept.clear()
    text.value = ''
    await settle()
    expect(be.db.has('tanaka/note/2')).toBe(false)
    text.value = '次のメモ'
    await settle()
    expect(be.db.get('tanaka/note/2')).toBe('"次のメモ"')
    app.unmount()
  })

  it('keeps what was typed before the draft loaded when the lock comes at once', async () => {
    const be = backend()
    let release = () => {}
    be.holdGet(new Promise<void>((r) => (release = r)))
    const key = ref('7')
    const { text, app } = mountEditor(key)
    text.value = '読み込み前に入力'
    await nextTick()
    await useDrafts().flush() // what a lock does before it locks
    expect(be.db.get('tanaka/note/7')).toBe('"読み込み前に入力"')
    release()
    await settle()
    expect(text.value).toBe('読み込み前に入力') // what is on screen wins over a late answer
    app.unmount()
  })

  it('keeps nothing for an editor left in its first state', async () => {
    const be = backend()
    const key = ref('5')
    const { text, app } = mountEditor(key)
    await settle()
    text.value = 'x'
    await nextTick()
    text.value = ''
    await settle()
    expect(be.calls.filter((c) => c === 'SaveDraft')).toHaveLength(0)
    expect(be.db.size).toBe(0)
    app.unmount()
  })
})
