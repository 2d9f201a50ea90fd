import { computed, onBeforeUnmount, onMounted, ref, watch } from 'vue'
import type { DialogApi } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { useDrafts, type DraftKind } from '../stores/drafts'
import { useNotify } from './notify'

interface Options<T> {
  /** The editor's current state (serialised as JSON). */
  read: () => T
  /** Puts a restored draft back into the editor. */
  apply: (saved: T) => void
  /** Say so quietly (the shared 下書きを復元しました toast) when a draft
   *  comes back: editors opened on purpose do; the reply box, restored
   *  on every conversation switch, does not. */
  announce?: boolean
  /** Whether a saved draft still fits the editor (e.g. the same version). */
  accept?: (saved: T) => boolean
}

/**
 * Keeps one editor's unsent work as a draft (stores/drafts.ts): restores it
 * when the editor opens, saves it while the person types, and writes it at
 * once when the editor goes away (a lock unmounts the app). Call clear()
 * when the work was saved or sent; discardDraft() when the person throws
 * it away.
 *
 * The editor's first state is not a draft: only what differs from it is
 * kept, and going back to it deletes the draft.
 */
export function useDraft<T>(kind: DraftKind, key: string | (() => string), opts: Options<T>) {
  const drafts = useDrafts()
  // Only announcing editors need the toast (it needs the app's providers).
  const announced = opts.announce ? announcer() : undefined
  const keyOf = typeof key === 'function' ? key : () => key
  let currentKey = keyOf()
  const initial = ref(JSON.stringify(opts.read()))
  /** Nothing typed: the editor shows its first state (late defaults included). */
  const pristine = computed(() => JSON.stringify(opts.read()) === initial.value)
  /** A draft of this editor exists (restored or typed). */
  const hasDraft = ref(false)
  let ready = false
  // Saved or sent: nothing is kept until the editor is emptied for new work.
  let done = false

  function current(): string {
    const now = JSON.stringify(opts.read())
    return now === initial.value ? '' : now
  }

  /** Typed before the draft loaded: saved like what is typed after it (a
   *  lock right away must not lose it). Only what differs from the first
   *  state: an empty editor must not delete a draft not loaded yet. */
  function keepTyped() {
    const body = current()
    if (body === '' || done) return
    hasDraft.value = true
    drafts.schedule(kind, currentKey, body)
  }

  async function restore(k: string) {
    ready = false
    try {
      const body = await drafts.load(kind, k)
      if (k !== currentKey) return
      // Typed meanwhile, or already saved: what is on screen wins.
      const saved = body ? (JSON.parse(body) as T) : null
      if (saved !== null && !done && current() === '' && (opts.accept?.(saved) ?? true)) {
        opts.apply(saved)
        hasDraft.value = true
        announced?.()
      }
    } catch {
      // No draft to show; what is typed from now on is still kept.
    } finally {
      if (k === currentKey) {
        ready = true
        keepTyped()
      }
    }
  }

  onMounted(() => void restore(currentKey))

  // One editor over several records (e.g. the note of whichever
  // conversation is open): the previous one's draft is already queued.
  if (typeof key === 'function') {
    watch(keyOf, (k) => {
      currentKey = k
      done = false
      hasDraft.value = false
      ready = false
      opts.apply(JSON.parse(initial.value) as T)
      void restore(k)
    })
  }

  watch(
    () => JSON.stringify(opts.read()),
    () => {
      if (!ready) {
        keepTyped()
        return
      }
      const body = current()
      if (done) {
        if (body === '') done = false
        return
      }
      hasDraft.value = body !== ''
      drafts.schedule(kind, currentKey, body)
    },
  )

  onBeforeUnmount(() => {
    if (!done) void drafts.flush()
  })

  /**
   * Applies defaults that arrive after the editor opened (e.g. which
   * channels can send): only to an untouched editor, and as part of its
   * first state, so they alone never make a draft.
   */
  function defaults(change: () => void): void {
    if (current() !== '' || hasDraft.value) return
    change()
    initial.value = JSON.stringify(opts.read())
  }

  /** The work was saved or sent: its draft goes. */
  async function clear(): Promise<void> {
    done = true
    hasDraft.value = false
    await drafts.discard(kind, currentKey).catch(() => {})
  }

  /** Throws the draft away: the editor goes back to its first state. */
  async function discardDraft(): Promise<void> {
    opts.apply(JSON.parse(initial.value) as T)
    hasDraft.value = false
    await drafts.discard(kind, currentKey).catch(() => {})
  }

  return { hasDraft, pristine, clear, discardDraft, defaults }
}

/**
 * Asks before an editor's draft is thrown away (下書きを破棄), then discards
 * it: the one wording for every editor.
 */
export function confirmDiscard(dialog: DialogApi, t: (key: string) => string, discard: () => unknown): void {
  dialog.warning({
    title: t('drafts.discardTitle'),
    content: t('drafts.discardBody'),
    positiveText: t('drafts.discardOk'),
    negativeText: t('drafts.keep'),
    onPositiveClick: () => void discard(),
  })
}

function announcer(): () => void {
  const notify = useNotify()
  const { t } = useI18n()
  return () => notify.info(t('drafts.restored'))
}
