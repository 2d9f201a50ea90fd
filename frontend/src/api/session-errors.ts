import { toErrorCode } from './errors'

/** Codes that mean the session, not the call, is the problem. */
export const SESSION_CODES = ['errors.sessionLocked', 'errors.sessionEnded', 'errors.signInRequired', 'errors.passwordChangeRequired'] as const

type Listener = (code: string) => void
const listeners = new Set<Listener>()

/** Subscribes to session failures of any call; returns the unsubscribe. */
export function onSessionError(cb: Listener): () => void {
  listeners.add(cb)
  return () => listeners.delete(cb)
}

export function notifySessionError(err: unknown): void {
  const code = toErrorCode(err)
  if ((SESSION_CODES as readonly string[]).includes(code)) for (const l of listeners) l(code)
}
