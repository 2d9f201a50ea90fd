import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, toApiError } from '../api'
import { useSession } from './session'
import { SESSION_CODES } from '../api/session-errors'

/** Quiet time after the last keystroke before a draft is written. */
export const DRAFT_DEBOUNCE_MS = 700

/** The editors that keep drafts (internal/drafts.Kind). */
export type DraftKind = 'reply' | 'note' | 'customer' | 'campaign' | 'automation' | 'survey' | 'segment' | 'richmenu' | 'canned' | 'route' | 'form' | 'booking'

interface Pending {
  staff: string
  kind: DraftKind
  key: string
  body: string
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * Unsent work (issue 19): every editor's draft goes to the encrypted DB
 * through the Go side (DraftService), debounced while the person types and
 * at once before the session ends (lock, sign-out, closing the window), so
 * a lock, a sign-out or a restart loses nothing. Never the WebView's
 * storage: that is a plain file on disk.
 *
 * A save that fails because the session locked meanwhile stays here,
 * for the same staff member only, and is written after they unlock.
 */
export const useDrafts = defineStore('drafts', () => {
  const pending = new Map<string, Pending>()
  /** Last body known to be in the DB per staff/kind/key (skips rewrites). */
  const stored = new Map<string, string>()
  /** The last failure the person should hear of (e.g. errors.draftTooLarge). */
  const lastError = ref<{ err: unknown; at: number } | null>(null)

  function staff(): string {
    return useSession().state?.staff?.login ?? ''
  }
  const id = (who: string, kind: DraftKind, key: string) => `${who}\u0000${kind}\u0000${key}`

  async function write(p: Pending): Promise<void> {
    const k = id(p.staff, p.kind, p.key)
    try {
      if (p.body === '') await api.DeleteDraft(p.kind, p.key)
      else await api.SaveDraft(p.kind, p.key, p.body)
      stored.set(k, p.body)
      if (pending.get(k) === p) pending.delete(k)
    } catch (err) {
      const code = toApiError(err).code
      // The conversation or customer was erased meanwhile: nothing to keep.
      if (code === 'errors.notFound' || code === 'errors.invalidInput') {
        if (pending.get(k) === p) pending.delete(k)
        return
      }
      // Locked or signed out meanwhile: kept for after the unlock.
      if ((SESSION_CODES as readonly string[]).includes(code) || code === 'errors.network') return
      lastError.value = { err, at: Date.now() }
    }
  }

  /** Saves body (JSON; '' deletes) after the person stops typing. */
  function schedule(kind: DraftKind, key: string, body: string): void {
    const who = staff()
    if (!who) return
    const k = id(who, kind, key)
    const old = pending.get(k)
    if (old) clearTimeout(old.timer)
    if (!old && (stored.get(k) ?? null) === body) return
    const p: Pending = { staff: who, kind, key, body, timer: undefined }
    p.timer = setTimeout(() => {
      p.timer = undefined
      void write(p)
    }, DRAFT_DEBOUNCE_MS)
    pending.set(k, p)
  }

  /** Writes every waiting draft of the signed-in person now. */
  async function flush(): Promise<void> {
    const who = staff()
    const mine = [...pending.values()].filter((p) => p.staff === who)
    for (const p of mine) clearTimeout(p.timer)
    await Promise.all(mine.map((p) => write(p)))
  }

  /** Drops another person's waiting drafts: they never reach this session. */
  function forgetOthers(): void {
    const who = staff()
    for (const [k, p] of pending) {
      if (p.staff !== who) {
        clearTimeout(p.timer)
        pending.delete(k)
      }
    }
    for (const k of stored.keys()) if (!k.startsWith(`${who}\u0000`)) stored.delete(k)
  }

  /** The work was sent or saved: its draft goes. */
  async function discard(kind: DraftKind, key: string): Promise<void> {
    const who = staff()
    if (!who) return
    const k = id(who, kind, key)
    clearTimeout(pending.get(k)?.timer)
    pending.delete(k)
    await write({ staff: who, kind, key, body: '', timer: undefined })
  }

  /** The body waiting to be written, if any (it is newer than the DB's). */
  function waiting(kind: DraftKind, key: string): string | undefined {
    return pending.get(id(staff(), kind, key))?.body
  }

  /** Reads the person's draft: what waits to be written, else the DB's. */
  async function load(kind: DraftKind, key: string): Promise<string> {
    const w = waiting(kind, key)
    if (w !== undefined) return w
    const d = await api.GetDraft(kind, key)
    stored.set(id(staff(), kind, key), d.body)
    return d.body
  }

  /** Every draft of one kind: key → body (waiting ones win). */
  async function list(kind: DraftKind): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    const who = staff()
    for (const d of await api.ListDrafts(kind)) {
      out[d.key] = d.body
      stored.set(id(who, kind, d.key), d.body)
    }
    for (const p of pending.values()) if (p.staff === who && p.kind === kind) out[p.key] = p.body
    return out
  }

  return { lastError, schedule, flush, forgetOthers, discard, load, list, waiting }
})
