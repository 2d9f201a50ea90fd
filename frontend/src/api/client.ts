import { eventShapes, methodInfo, shapes, type EventName, type Events, type MethodName, type Methods, type Shape } from './contract.gen'
import { notifySessionError } from './session-errors'
import { pickTransport, type ConnectionState, type Transport, type Unsubscribe, type WailsWindow } from './transport'

let current: Transport | null = null

/**
 * The transport is chosen on first use (not at import time) so that Wails has
 * injected `window.go` by then.
 */
export function transport(): Transport {
  if (!current) current = pickTransport(typeof window === 'undefined' ? undefined : (window as unknown as WailsWindow))
  return current
}

/** For tests: force a transport (or null to pick again on next use). */
export function setTransport(t: Transport | null): void {
  current = t
}

/**
 * Replaces the null that Go marshals for a nil slice or map with [] or {},
 * as deep as the value's shape (contract.gen.ts) says it holds them, so the
 * generated types can promise T[] and views need no `?? []`. A member that
 * is absent (omitempty) stays absent.
 */
export function normalize(value: unknown, shape: Shape | 0 | undefined): unknown {
  if (!shape || value === undefined) return value
  if (typeof shape === 'string') {
    if (value === null || typeof value !== 'object') return value
    const members = shapes[shape]
    if (!members) return value
    const obj = value as Record<string, unknown>
    for (const [k, s] of Object.entries(members)) if (k in obj) obj[k] = normalize(obj[k], s)
    return obj
  }
  if ('l' in shape) {
    if (value === null) return []
    return shape.l ? (value as unknown[]).map((v) => normalize(v, shape.l)) : value
  }
  if ('m' in shape) {
    if (value === null) return {}
    if (shape.m) for (const [k, v] of Object.entries(value as Record<string, unknown>)) (value as Record<string, unknown>)[k] = normalize(v, shape.m)
    return value
  }
  if ('p' in shape) return value === null ? null : normalize(value, shape.p)
  if (value === null || typeof value !== 'object') return value
  const obj = value as Record<string, unknown>
  for (const [k, s] of Object.entries(shape.o)) if (k in obj) obj[k] = normalize(obj[k], s)
  return obj
}

type Result<M extends MethodName> = ReturnType<Methods[M]>

/**
 * The one call of a bound Go method. Every failure rejects with ApiError;
 * session failures (idle lock, ended session) of any call also reach the
 * session store, which shows the lock or sign-in screen.
 */
export async function call<M extends MethodName>(method: M, ...args: Parameters<Methods[M]>): Promise<Result<M>> {
  try {
    const result = await transport().call(method, args)
    return normalize(result, methodInfo[method].result) as Result<M>
  } catch (err) {
    notifySessionError(err)
    throw err
  }
}

/** The bound methods, by name: `api.Reply(conversationId, text)`. */
export type Api = { readonly [M in MethodName]: (...args: Parameters<Methods[M]>) => Promise<Result<M>> }

export const api: Api = Object.fromEntries(
  (Object.keys(methodInfo) as MethodName[]).map((m) => [m, (...args: unknown[]) => call(m, ...(args as Parameters<Methods[typeof m]>))]),
) as unknown as Api

/** Subscribes to a backend event; the payload is normalised like a result. */
export function onEvent<E extends EventName>(event: E, cb: (payload: Events[E]) => void): Unsubscribe {
  return transport().on(event, (p) => cb(normalize(p, eventShapes[event]) as Events[E]))
}

export function onConnection(cb: (state: ConnectionState) => void): Unsubscribe {
  return transport().onConnection(cb)
}
