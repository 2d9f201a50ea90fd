import { onBeforeUnmount, ref, watch, type Ref } from 'vue'
import { api, onEvent, type PresencePerson } from '../api'

/** How often an open conversation says it is still open (the Go side
 *  forgets a client after 40 s of silence, internal/presence.TTL). */
export const PRESENCE_BEAT_MS = 15_000

/**
 * Who else has the conversation open (issue 18: 「山田さんが対応中」): tells
 * the Go side this screen has it open, on opening, every PRESENCE_BEAT_MS
 * and when someone came or went, and says it left when the screen does.
 */
export function usePresence(conversationId: Ref<number | null | undefined>) {
  const others = ref<PresencePerson[]>([])
  let timer: ReturnType<typeof setInterval> | null = null

  async function beat() {
    const id = conversationId.value ?? 0
    try {
      const list = await api.ViewConversation(id)
      if ((conversationId.value ?? 0) === id) others.value = list
    } catch {
      // Presence is a courtesy: a failed beat shows nobody rather than an error.
      others.value = []
    }
  }

  watch(
    conversationId,
    (id) => {
      others.value = []
      if (timer) clearInterval(timer)
      timer = null
      void beat()
      if (id) timer = setInterval(beat, PRESENCE_BEAT_MS)
    },
    { immediate: true },
  )
  const off = onEvent('presence:changed', (e) => {
    const id = conversationId.value
    if (id && e.conversationIds.includes(id)) void beat()
  })
  onBeforeUnmount(() => {
    off()
    if (timer) clearInterval(timer)
    if (conversationId.value) void api.ViewConversation(0).catch(() => {})
  })
  return { others }
}
