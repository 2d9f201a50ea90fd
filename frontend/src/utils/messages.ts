import type { InboxMessage } from '../api'

type T = (key: string, named?: Record<string, unknown>) => string

/** Kinds with their own label in the catalog (conversation.kind.*). */
const LABELLED = new Set([
  'sticker',
  'image',
  'video',
  'audio',
  'file',
  'location',
  'follow',
  'unfollow',
  'postback',
  'videoPlayComplete',
  'accountLink',
  'unsend',
  'other',
])
/** Kinds whose body adds something useful after the label (file name, address). A postback's body is
 * its data, meant for the program (action=reserve): it shows the button's label, or nothing. */
const WITH_BODY = new Set(['file', 'location'])

/** What a bubble shows for a message of any kind. */
export function messageText(m: Pick<InboxMessage, 'kind' | 'body'> & { unsent?: boolean; label?: string }, t: T): string {
  // A message the customer took back shows only that it was withdrawn.
  if (m.unsent) return t('conversation.kind.unsend')
  if (m.kind === 'text') return m.body
  if (m.kind === 'postback') return m.label ? `${t('conversation.kind.postback')} ${m.label}` : t('conversation.kind.postback')
  const label = t(`conversation.kind.${LABELLED.has(m.kind) ? m.kind : 'other'}`)
  return WITH_BODY.has(m.kind) && m.body ? `${label} ${m.body}` : label
}

/** The conversation list's preview of its last message, of any kind. */
export function previewText(c: { lastKind: string; lastPreview: string }, t: T): string {
  return messageText({ kind: c.lastKind || 'text', body: c.lastPreview }, t)
}
