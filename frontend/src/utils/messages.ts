import type { Message } from '../api'

type T = (key: string, named?: Record<string, unknown>) => string

/** Kinds with their own label in the catalog (conversation.kind.*). */
const LABELLED = new Set(['sticker', 'image', 'video', 'audio', 'file', 'location', 'follow', 'unfollow', 'other'])
/** Kinds whose body adds something useful after the label (file name, address). */
const WITH_BODY = new Set(['file', 'location'])

/** What a bubble shows for a message of any kind. */
export function messageText(m: Pick<Message, 'kind' | 'body'>, t: T): string {
  if (m.kind === 'text') return m.body
  const label = t(`conversation.kind.${LABELLED.has(m.kind) ? m.kind : 'other'}`)
  return WITH_BODY.has(m.kind) && m.body ? `${label} ${m.body}` : label
}

/**
 * The backend's list preview of a non-text message is its kind in brackets,
 * e.g. "[sticker]": show the translated label instead.
 */
export function previewText(preview: string, t: T): string {
  const m = /^\[([a-z]+)\]$/.exec(preview)
  if (m && LABELLED.has(m[1]!)) return t(`conversation.kind.${m[1]}`)
  return preview
}
