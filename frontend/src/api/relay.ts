// Wire types and calls of the webhook relay (app/facade/relay.go,
// internal/engine/relay.go).
import { transport } from './client'
import { notifySessionError } from './session-errors'
import type { Unsubscribe } from './transport'

export type RelayState = 'stopped' | 'connecting' | 'connected' | 'reconnecting' | 'unauthorized'

export interface RelayStatus {
  enrolled: boolean
  relayUrl?: string
  tenant?: string
  webhookUrl?: string
  /** RFC 3339; absent when not enrolled. */
  enrolledAt?: string
  /** The pull loop runs (live mode only). */
  running: boolean
  state: RelayState
  /** RFC 3339 of the last event stored; absent before the first. */
  lastEventAt?: string
  lastError?: string
  /** Events still queued at the relay after the last batch. */
  pending: number
  /** Relay receipt to stored, last event, in ms. */
  lagMillis: number
  handled: number
  dropped: number
  connects: number
  /** Bodies dropped because LINE's signature did not verify. */
  forged: number
  /** Bodies dropped that were not webhooks at all (no signature either). */
  junk: number
  /** Events kept aside because they could not be stored. */
  deadLetters: number
}

export const RELAY_STATUS_EVENT = 'relay:status'

function call<T>(method: string, ...args: unknown[]): Promise<T> {
  return (transport().call(method, args) as Promise<T>).catch((err: unknown) => {
    notifySessionError(err)
    throw err
  })
}

export const relayApi = {
  RelayStatus: () => call<RelayStatus>('RelayStatus'),
  RelayEnroll: (relayUrl: string, code: string) => call<RelayStatus>('RelayEnroll', relayUrl, code),
  RelayDisconnect: () => call<RelayStatus>('RelayDisconnect'),
  RelaySetWebhookOnLINE: () => call<string>('RelaySetWebhookOnLINE'),
}

export function onRelayStatus(cb: (s: RelayStatus) => void): Unsubscribe {
  return transport().on(RELAY_STATUS_EVENT, (p) => cb(p as RelayStatus))
}
