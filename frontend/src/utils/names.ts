import type { InboxConversation } from '../api'

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
