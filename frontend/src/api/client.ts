import type { BackendEvents, BackendMethods, EventName, LineSettings, MethodName, OutageMode } from './types'
import { notifySessionError } from './session-errors'
import { securityApi } from './security'
import { customersApi } from './customers'
import { aboutApi } from './about'
import { inboxApi } from './inbox'
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

function call<M extends MethodName>(
  method: M,
  ...args: Parameters<BackendMethods[M]>
): Promise<ReturnType<BackendMethods[M]>> {
  const p = transport().call(method, args) as Promise<ReturnType<BackendMethods[M]>>
  // Session failures (idle lock, ended session) of any call reach the
  // session store, which shows the lock or sign-in screen.
  return p.catch((err: unknown) => {
    notifySessionError(err)
    throw err
  })
}

/** Typed client of the bound Go object. Every failure rejects with ApiError. */
export const api = {
  Status: () => call('Status'),
  Conversations: async () => (await call('Conversations')) ?? [],
  Messages: async (conversationId: number) => (await call('Messages', conversationId)) ?? [],
  MarkRead: (conversationId: number) => call('MarkRead', conversationId),
  Reply: (conversationId: number, text: string) => call('Reply', conversationId, text),
  RetryMessage: (messageId: number) => call('RetryMessage', messageId),
  SandboxCustomers: async () => (await call('SandboxCustomers')) ?? [],
  SandboxChat: async (userId: string) => (await call('SandboxChat', userId)) ?? [],
  SandboxSend: (userId: string, text: string) => call('SandboxSend', userId, text),
  SandboxFollow: (userId: string, follow: boolean) => call('SandboxFollow', userId, follow),
  SandboxSendSticker: (userId: string, packageId: string, stickerId: string) =>
    call('SandboxSendSticker', userId, packageId, stickerId),
  SandboxSendImage: (userId: string) => call('SandboxSendImage', userId),
  SandboxPostback: (userId: string, label: string, data: string) => call('SandboxPostback', userId, label, data),
  SandboxSetOutage: (mode: OutageMode, slowMs: number) => call('SandboxSetOutage', mode, slowMs),
  SandboxExpireContent: (all: boolean) => call('SandboxExpireContent', all),
  Quota: () => call('Quota'),
  LineSettings: () => call('LineSettings'),
  SetLineSettings: (s: LineSettings) => call('SetLineSettings', s),
  MessageContent: (messageId: number) => call('MessageContent', messageId),
  SaveChannel: (secret: string, accessToken: string) => call('SaveChannel', secret, accessToken),
  ClearChannel: () => call('ClearChannel'),
  ...securityApi(call),
  ...customersApi(call),
  ...aboutApi(call),
  ...inboxApi(call),
}

export function onEvent<E extends EventName>(event: E, cb: (payload: BackendEvents[E]) => void): Unsubscribe {
  return transport().on(event, cb as (p: unknown) => void)
}

export function onConnection(cb: (state: ConnectionState) => void): Unsubscribe {
  return transport().onConnection(cb)
}
