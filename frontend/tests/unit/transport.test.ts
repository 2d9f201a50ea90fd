import { afterEach, describe, expect, it, vi } from 'vitest'
import { createHttpTransport, createWailsTransport, pickTransport, type WailsWindow } from '../../src/api/transport'
import { api, normalize, setTransport, transport } from '../../src/api/client'
import type { Transport } from '../../src/api/transport'
import { ApiError } from '../../src/api/errors'
import { methodInfo } from '../../src/api/contract.gen'

const status = {
  sandbox: true,
  channelConfigured: false,
  tokenHint: '',
  version: '1.0.0',
  dataDir: '/data',
  staffName: '山田',
  rejectedWebhooks: 0,
}

/** A Wails window binding each method on the service the contract names. */
function wailsWindow(methods: Record<string, (...a: unknown[]) => Promise<unknown>>) {
  const handlers = new Map<string, (...d: unknown[]) => void>()
  const off = vi.fn()
  const facade: Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>> = {}
  for (const [name, fn] of Object.entries(methods)) {
    const service = (methodInfo as Record<string, { service: string }>)[name]!.service
    facade[service] = { ...facade[service], [name]: fn }
  }
  const win: WailsWindow = {
    go: { facade },
    runtime: {
      EventsOn: vi.fn((name: string, cb: (...d: unknown[]) => void) => {
        handlers.set(name, cb)
        return off
      }),
    },
  }
  return { win, handlers, off }
}

/** Minimal EventSource stand-in that records listeners. */
class FakeEventSource {
  static last: FakeEventSource | null = null
  url: string
  listeners = new Map<string, ((ev: Event) => void)[]>()
  constructor(url: string) {
    this.url = url
    FakeEventSource.last = this
  }
  addEventListener(name: string, cb: (ev: Event) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), cb])
  }
  fire(name: string, data?: string) {
    for (const cb of this.listeners.get(name) ?? []) cb(Object.assign(new Event(name), { data }))
  }
}

/** The ApiError a call rejected with (fails the test if it resolved). */
async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected the call to reject')
}

afterEach(() => {
  setTransport(null)
  delete (window as unknown as WailsWindow).go
  delete (window as unknown as WailsWindow).runtime
})

describe('pickTransport', () => {
  it('uses Wails when the bound object is present', () => {
    const { win } = wailsWindow({ Status: async () => status })
    expect(pickTransport(win).kind).toBe('wails')
  })

  it('uses HTTP + SSE in a plain browser', () => {
    expect(pickTransport({}).kind).toBe('http')
    expect(pickTransport({ go: {} }).kind).toBe('http')
    expect(pickTransport({ go: { facade: {} } }).kind).toBe('http')
    expect(pickTransport(undefined).kind).toBe('http')
  })

  it('the client picks on first use, from window', async () => {
    const Status = vi.fn(async () => status)
    Object.assign(window, wailsWindow({ Status }).win)
    setTransport(null)
    await expect(api.Status()).resolves.toEqual(status)
    expect(transport().kind).toBe('wails')
    expect(Status).toHaveBeenCalledWith()
  })

  it('the client falls back to HTTP without window.go', () => {
    setTransport(null)
    expect(transport().kind).toBe('http')
  })
})

describe('Wails transport', () => {
  it('passes arguments and returns results', async () => {
    const Reply = vi.fn(async (id: unknown, text: unknown) => ({ id: 9, conversationId: id, body: text }))
    const t = createWailsTransport(wailsWindow({ Reply }).win)
    await expect(t.call('Reply', [3, 'こんにちは'])).resolves.toEqual({ id: 9, conversationId: 3, body: 'こんにちは' })
    expect(Reply).toHaveBeenCalledWith(3, 'こんにちは')
  })

  it('calls the method on the service the contract names, and only there', async () => {
    const service = methodInfo.Reply.service
    const right = vi.fn(async () => ({ id: 1 }))
    const wrong = vi.fn(async () => ({ id: 2 }))
    const other = service === 'AutomationService' ? 'AuditService' : 'AutomationService'
    const win: WailsWindow = { go: { facade: { [other]: { Reply: wrong }, [service]: { Reply: right } } } }
    await expect(createWailsTransport(win).call('Reply', [1, 'x'])).resolves.toEqual({ id: 1 })
    expect(wrong).not.toHaveBeenCalled()
    // A method the contract does not know is never looked for.
    const err = await failure(createWailsTransport(win).call('NoSuchMethod', []))
    expect(err.code).toBe('errors.internal')
  })

  it('turns void results into null', async () => {
    const t = createWailsTransport(wailsWindow({ MarkRead: async () => undefined }).win)
    await expect(t.call('MarkRead', [1])).resolves.toBeNull()
  })

  it('rejects with an ApiError carrying the code string', async () => {
    const t = createWailsTransport(wailsWindow({ Reply: () => Promise.reject('errors.unreachable') }).win)
    const err = await failure(t.call('Reply', [1, 'x']))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe('errors.unreachable')
  })

  it('on a seat forwards every call of the contract to the primary through the one bound method', async () => {
    const Forward = vi.fn(async (method: string, args: unknown[]) => ({ method, args }))
    const win: WailsWindow = { go: { desktop: { SeatLink: { Forward } } } }
    expect(pickTransport(win).kind).toBe('wails')
    const t = createWailsTransport(win)
    await expect(t.call('Reply', [3, 'こんにちは'])).resolves.toEqual({ method: 'Reply', args: [3, 'こんにちは'] })
    expect(Forward).toHaveBeenCalledWith('Reply', [3, 'こんにちは'])
    // The primary's errors arrive as a bound method's: the code, with fields as JSON.
    Forward.mockImplementationOnce(() => Promise.reject('errors.primaryAway'))
    expect((await failure(t.call('Conversations', []))).code).toBe('errors.primaryAway')
    Forward.mockImplementationOnce(() => Promise.reject(JSON.stringify({ code: 'errors.invalidInput', fields: [{ field: 'login', code: 'errors.fieldRequired' }] })))
    const err = await failure(t.call('CreateStaff', [{}]))
    expect(err.code).toBe('errors.invalidInput')
    expect(err.fields[0]?.field).toBe('login')
    // Methods outside the contract are not forwarded.
    expect((await failure(t.call('NoSuchMethod', []))).code).toBe('errors.internal')
    expect(Forward).toHaveBeenCalledTimes(3)
  })

  it('forwards events with their payload and unsubscribes', () => {
    const { win, handlers, off } = wailsWindow({})
    const t = createWailsTransport(win)
    const cb = vi.fn()
    const unsubscribe = t.on('inbox:changed', cb)
    handlers.get('inbox:changed')!({ conversationId: 4 })
    expect(cb).toHaveBeenCalledWith({ conversationId: 4 })
    unsubscribe()
    expect(off).toHaveBeenCalled()
  })
})

describe('HTTP transport', () => {
  function respond(status: number, body: string) {
    return vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => new Response(body, { status }))
  }

  it('POSTs a JSON array of arguments to /api/call/<Method>', async () => {
    const fetch = respond(200, JSON.stringify({ id: 1 }))
    const t = createHttpTransport({ fetch, baseUrl: 'http://127.0.0.1:9' })
    await expect(t.call('Reply', [7, '金利'])).resolves.toEqual({ id: 1 })
    const [url, init] = fetch.mock.calls[0]!
    expect(url).toBe('http://127.0.0.1:9/api/call/Reply')
    expect(init?.method).toBe('POST')
    expect(JSON.parse(init?.body as string)).toEqual([7, '金利'])
  })

  it('returns null for an empty or null body', async () => {
    await expect(createHttpTransport({ fetch: respond(200, 'null') }).call('MarkRead', [1])).resolves.toBeNull()
    await expect(createHttpTransport({ fetch: respond(200, '') }).call('MarkRead', [1])).resolves.toBeNull()
  })

  it('rejects with the code from {"error": code}', async () => {
    const err = await failure(createHttpTransport({ fetch: respond(400, '{"error":"errors.emptyMessage"}') }).call('Reply', [1, '']))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe('errors.emptyMessage')
  })

  it('rejects with errors.badResponse for a non-JSON failure', async () => {
    const err = await failure(createHttpTransport({ fetch: respond(502, '<html>Bad gateway</html>') }).call('Status', []))
    expect(err.code).toBe('errors.badResponse')
  })

  it('rejects with errors.network when the bridge is unreachable', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    })
    const err = await failure(createHttpTransport({ fetch }).call('Status', []))
    expect(err.code).toBe('errors.network')
  })

  it('reads events from one EventSource at /api/events', () => {
    const t = createHttpTransport({ EventSource: FakeEventSource as unknown as typeof EventSource })
    const a = vi.fn()
    const b = vi.fn()
    const offA = t.on('inbox:changed', a)
    t.on('sandbox:phone', b)
    const es = FakeEventSource.last!
    expect(es.url).toBe('/api/events')
    es.fire('inbox:changed', '{"conversationId":2}')
    es.fire('sandbox:phone', '{"userId":"U1"}')
    expect(a).toHaveBeenCalledWith({ conversationId: 2 })
    expect(b).toHaveBeenCalledWith({ userId: 'U1' })
    offA()
    es.fire('inbox:changed', '{"conversationId":3}')
    expect(a).toHaveBeenCalledTimes(1)
  })

  it('reports a lost and restored event stream once each', () => {
    const t = createHttpTransport({ EventSource: FakeEventSource as unknown as typeof EventSource })
    const states: string[] = []
    t.onConnection((s) => states.push(s))
    const es = FakeEventSource.last!
    es.fire('open')
    es.fire('error')
    es.fire('error')
    es.fire('open')
    expect(states).toEqual(['lost', 'open'])
  })
})

describe('the one call()', () => {
  function fake(results: Record<string, unknown>): Transport {
    return {
      kind: 'http',
      call: async (method) => structuredClone(results[method]),
      on: () => () => {},
      onConnection: () => () => {},
    }
  }

  it('turns the null of a nil slice or map into [] or {}, as deep as the result holds them', async () => {
    setTransport(
      fake({
        Segments: null,
        ConversationPage: { conversations: null, next: '', unreadTotal: 0 },
        Customer: { id: 1, contactPoints: null, consents: [], products: null, attributes: null, tags: null, line: null },
        CampaignReport: { channels: null, skipped: null, timeline: [] },
        CustomerLink: { customerId: 1, link: null, destinations: { email: null, sms: ['090'] } },
      }),
    )
    await expect(api.Segments()).resolves.toEqual([])
    expect((await api.ConversationPage({ assignee: '', status: '', link: '', follow: '', search: '', cursor: '', limit: 1 })).conversations).toEqual([])
    const card = await api.Customer(1)
    expect(card).toMatchObject({ contactPoints: [], products: [], attributes: [], tags: [], line: null })
    const rep = await api.CampaignReport(1)
    expect(rep.channels).toEqual([])
    expect(rep.skipped).toEqual({})
    expect((await api.CustomerLink(1)).destinations).toEqual({ email: [], sms: ['090'] })
  })

  it('leaves absent (omitempty) members absent and recurses into trees', () => {
    const tree = { op: 'and', children: [{ op: 'or', children: null }, { cond: { kind: 'tag', values: null } }] }
    expect(normalize(structuredClone(tree), 'SegmentNode')).toEqual({
      op: 'and',
      children: [{ op: 'or', children: [] }, { cond: { kind: 'tag', values: [] } }],
    })
    expect(normalize({ op: 'and' }, 'SegmentNode')).toEqual({ op: 'and' })
    expect(normalize(null, { l: 'SegmentNode' })).toEqual([])
    expect(normalize(null, { p: { l: 0 } })).toBeNull()
  })

  it('gives every session failure to the session listeners and rejects', async () => {
    const { onSessionError } = await import('../../src/api/session-errors')
    setTransport({ ...fake({}), call: async () => Promise.reject(new ApiError('errors.sessionLocked')) })
    const seen: string[] = []
    const off = onSessionError((c) => seen.push(c))
    await expect(api.Lock()).rejects.toBeInstanceOf(ApiError)
    off()
    expect(seen).toEqual(['errors.sessionLocked'])
  })
})
