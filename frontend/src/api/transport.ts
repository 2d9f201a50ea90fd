import { methodInfo, type MethodInfo } from './contract.gen'
import { ApiError, CLIENT_CODES, toApiError } from './errors'

export type Unsubscribe = () => void
export type ConnectionState = 'open' | 'lost'

/**
 * How calls and events reach the Go side. Components never see this: they use
 * the typed client in ./client.ts.
 */
export interface Transport {
  readonly kind: 'wails' | 'http'
  call(method: string, args: unknown[]): Promise<unknown>
  on(event: string, cb: (payload: unknown) => void): Unsubscribe
  /**
   * Connection changes of the event stream. 'open' after a 'lost' means events
   * may have been missed and the caller should reload what it shows.
   * The Wails transport never loses its connection.
   */
  onConnection(cb: (state: ConnectionState) => void): Unsubscribe
}

// ---------------------------------------------------------------- Wails ----

type WailsMethod = (...args: unknown[]) => Promise<unknown>

export interface WailsWindow {
  /** The bound services (app/facade/services.go), by type name; on a seat
   *  (子機) instead the one forwarding method (app/desktop/seat.go). */
  go?: {
    facade?: Record<string, Record<string, WailsMethod | undefined> | undefined>
    desktop?: { SeatLink?: { Forward?: (method: string, args: unknown[]) => Promise<unknown> } }
  }
  runtime?: {
    EventsOn?: (name: string, cb: (...data: unknown[]) => void) => Unsubscribe | void
    EventsOff?: (name: string, ...more: string[]) => void
  }
}

/** The bound function of a method, on the service the contract names; on a
 *  seat, where no service is bound, the forwarder of the call to the primary
 *  (the one path of both roles: docs/architecture.md). */
function findMethod(win: WailsWindow, method: string): WailsMethod | undefined {
  const info = (methodInfo as Record<string, MethodInfo | undefined>)[method]
  if (!info) return undefined
  const fn = win.go?.facade?.[info.service]?.[method]
  if (typeof fn === 'function') return fn
  const forward = win.go?.desktop?.SeatLink?.Forward
  if (typeof forward === 'function') return (...args: unknown[]) => forward(method, args)
  return undefined
}

export function createWailsTransport(win: WailsWindow): Transport {
  return {
    kind: 'wails',
    async call(method, args) {
      const fn = findMethod(win, method)
      if (typeof fn !== 'function') throw new ApiError('errors.internal')
      try {
        const result = await fn(...args)
        return result === undefined ? null : result
      } catch (err) {
        throw toApiError(err)
      }
    },
    on(event, cb) {
      const on = win.runtime?.EventsOn
      if (typeof on !== 'function') return () => {}
      const off = on(event, (...data: unknown[]) => cb(data[0]))
      if (typeof off === 'function') return off
      return () => win.runtime?.EventsOff?.(event)
    },
    onConnection() {
      return () => {}
    },
  }
}

// ----------------------------------------------------------- HTTP + SSE ----

export interface HttpTransportOptions {
  /** Origin + path prefix of the dev bridge; '' means same origin. */
  baseUrl?: string
  fetch?: typeof fetch
  EventSource?: typeof EventSource
}

export function createHttpTransport(opts: HttpTransportOptions = {}): Transport {
  const base = (opts.baseUrl ?? '').replace(/\/$/, '')
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a))
  const ES = opts.EventSource ?? (typeof EventSource !== 'undefined' ? EventSource : undefined)

  const listeners = new Map<string, Set<(p: unknown) => void>>()
  const connectionListeners = new Set<(s: ConnectionState) => void>()
  let source: EventSource | null = null
  let lost = false

  function ensureSource(): EventSource | null {
    if (source || !ES) return source
    source = new ES(`${base}/api/events`)
    source.addEventListener('open', () => {
      if (lost) {
        lost = false
        connectionListeners.forEach((cb) => cb('open'))
      }
    })
    source.addEventListener('error', () => {
      if (!lost) {
        lost = true
        connectionListeners.forEach((cb) => cb('lost'))
      }
    })
    for (const name of listeners.keys()) attach(name)
    return source
  }

  function attach(name: string) {
    source?.addEventListener(name, (ev: Event) => {
      const data = (ev as MessageEvent).data
      let payload: unknown = null
      if (typeof data === 'string' && data !== '') {
        try {
          payload = JSON.parse(data)
        } catch {
          payload = data
        }
      }
      listeners.get(name)?.forEach((cb) => cb(payload))
    })
  }

  return {
    kind: 'http',
    async call(method, args) {
      let res: Response
      try {
        res = await doFetch(`${base}/api/call/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(args),
        })
      } catch {
        throw new ApiError(CLIENT_CODES.network)
      }
      const text = await res.text().catch(() => '')
      let body: unknown = null
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text)
        } catch {
          if (res.ok) throw new ApiError(CLIENT_CODES.badResponse)
        }
      }
      if (!res.ok) {
        const code = (body as { error?: unknown } | null)?.error
        if (typeof code !== 'string' || code === '') throw new ApiError(CLIENT_CODES.badResponse)
        throw toApiError(body)
      }
      return body
    },
    on(event, cb) {
      let set = listeners.get(event)
      if (!set) {
        set = new Set()
        listeners.set(event, set)
        if (source) attach(event)
      }
      set.add(cb)
      ensureSource()
      return () => {
        listeners.get(event)?.delete(cb)
      }
    },
    onConnection(cb) {
      connectionListeners.add(cb)
      ensureSource()
      return () => connectionListeners.delete(cb)
    },
  }
}

// --------------------------------------------------------------- picking ----

/** True when running inside the Wails window (the bound object is present). */
export function isWails(win: WailsWindow | undefined): boolean {
  if (typeof win?.go?.desktop?.SeatLink?.Forward === 'function') return true
  return typeof win?.go?.facade === 'object' && win.go.facade !== null && Object.keys(win.go.facade).length > 0
}

/** Wails window -> Wails IPC; plain browser (dev, UI test) -> HTTP + SSE bridge. */
export function pickTransport(win: WailsWindow | undefined): Transport {
  if (win && isWails(win)) return createWailsTransport(win)
  return createHttpTransport()
}
