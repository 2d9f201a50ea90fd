import { getActivePinia } from 'pinia'
import type { InboxConversation } from '../api'
import { useActors } from '../stores/actors'

type T = (key: string, named?: Record<string, unknown>) => string

/**
 * What a conversation is called: the customer's LINE name, or while the
 * profile has not arrived (LINE unreachable, not fetched yet) a short form
 * of the user ID, 「LINE ユーザー …a1b2」. Never the raw ID.
 */
export function conversationName(c: Pick<InboxConversation, 'displayName' | 'lineUserId'>, t: T): string {
  const name = c.displayName?.trim()
  if (name) return name
  return t('inbox.unnamed', { id: (c.lineUserId ?? '').slice(-4) })
}

/**
 * A recorded actor as people call it: a staff member by display name (the
 * actors store, see stores/actors.ts), the system and the command line by
 * their labels. Without an active store (unit tests), a staff actor's login.
 */
export function personName(actor: string, t?: T): string {
  if (!actor) return ''
  if (actor.startsWith('staff:')) {
    const pinia = getActivePinia()
    return pinia ? (useActors(pinia).staffName(actor) ?? actor.slice(6)) : actor.slice(6)
  }
  if (!t) return actor.replace(/^(os|recovery):/, '')
  if (actor === 'system') return t('audit.actors.system')
  if (actor === 'unknown') return t('audit.actors.unknown')
  if (actor.startsWith('os:')) return t('audit.actors.os', { name: actor.slice(3) })
  if (actor.startsWith('recovery:')) return t('audit.actors.recovery', { name: actor.slice(9) })
  return actor
}
