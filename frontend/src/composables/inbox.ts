import { computed, reactive } from 'vue'
import { api, onConnection, onEvent, toApiError, type Conversation, type Message, type Status } from '../api'
import { can, session } from './session'

/**
 * App-wide state of the clerk's inbox. One instance per window; components
 * read `inbox` and call the actions below. Actions reject with ApiError.
 */
export const inbox = reactive({
  booting: true,
  bootError: null as unknown,
  connectionLost: false,
  status: null as Status | null,
  conversations: [] as Conversation[],
  conversationsLoaded: false,
  selectedId: null as number | null,
  /** Server messages of the selected conversation (chronological). */
  messages: [] as Message[],
  messagesLoading: false,
  /** Outgoing replies not yet answered by the backend (negative ids). */
  outbox: [] as Message[],
  retrying: [] as number[],
  drafts: {} as Record<number, string>,
  /** Last failure of something the clerk did not directly trigger. */
  backgroundError: null as { err: unknown; at: number } | null,
})

export const selectedConversation = computed<Conversation | null>(
  () => inbox.conversations.find((c) => c.id === inbox.selectedId) ?? null,
)

export const unreadTotal = computed(() => inbox.conversations.reduce((n, c) => n + (c.unread > 0 ? c.unread : 0), 0))

/** Messages to show: server list plus this conversation's unanswered replies. */
export const visibleMessages = computed<Message[]>(() => {
  const id = inbox.selectedId
  if (id === null) return []
  return [...inbox.messages, ...inbox.outbox.filter((m) => m.conversationId === id)]
})

function reportBackground(err: unknown) {
  inbox.backgroundError = { err: toApiError(err), at: Date.now() }
}

/** Runs `fn` at most once at a time; calls made meanwhile collapse into one re-run. */
function serialized(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null
  let again = false
  const run = async (): Promise<void> => {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      try {
        do {
          again = false
          await fn()
        } while (again)
      } finally {
        running = null
      }
    })()
    return running
  }
  return run
}

export async function refreshStatus(): Promise<void> {
  inbox.status = await api.Status()
}

export const refreshConversations = serialized(async () => {
  const list = await api.Conversations()
  inbox.conversations = list
  inbox.conversationsLoaded = true
  await markSelectedReadIfNeeded()
})

let messagesToken = 0
export const refreshMessages = serialized(async () => {
  const id = inbox.selectedId
  if (id === null) return
  const token = ++messagesToken
  const list = await api.Messages(id)
  if (token !== messagesToken || inbox.selectedId !== id) return
  inbox.messages = list
})

function pageVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden'
}

/**
 * Marks the open conversation read when it has unread messages. Guarded by
 * `unread > 0`, so a backend that emits `inbox:changed` after MarkRead does
 * not cause a loop.
 */
let marking: number | null = null
async function markSelectedReadIfNeeded(): Promise<void> {
  const conv = selectedConversation.value
  // Roles that may not reply (agency) only look: the unread count stays
  // for the clerks. (Without a known session the Go side decides.)
  if (!conv || conv.unread <= 0 || !pageVisible() || marking === conv.id || (session.state && !can('inbox.reply'))) return
  marking = conv.id
  try {
    await api.MarkRead(conv.id)
    conv.unread = 0
  } catch (err) {
    reportBackground(err)
  } finally {
    marking = null
  }
}

export async function selectConversation(id: number | null): Promise<void> {
  if (inbox.selectedId === id) {
    await markSelectedReadIfNeeded()
    return
  }
  inbox.selectedId = id
  inbox.messages = []
  if (id === null) return
  inbox.messagesLoading = true
  try {
    await Promise.all([refreshMessages(), markSelectedReadIfNeeded()])
  } finally {
    if (inbox.selectedId === id) inbox.messagesLoading = false
  }
}

function upsertMessage(m: Message) {
  if (m.conversationId !== inbox.selectedId) return
  const i = inbox.messages.findIndex((x) => x.id === m.id)
  if (i >= 0) inbox.messages.splice(i, 1, m)
  else inbox.messages.push(m)
}

let localId = 0
/**
 * Sends a reply. Shows it at once as "sending"; resolves with the stored
 * message (which may itself be status 'failed' with an error code).
 */
export async function sendReply(conversationId: number, text: string, staffName: string): Promise<Message> {
  const optimistic: Message = {
    id: --localId,
    conversationId,
    direction: 'out',
    kind: 'text',
    body: text,
    sentBy: staffName,
    via: '',
    status: 'pending',
    error: '',
    createdAt: Date.now(),
  }
  inbox.outbox.push(optimistic)
  try {
    const saved = await api.Reply(conversationId, text)
    upsertMessage(saved)
    return saved
  } finally {
    inbox.outbox = inbox.outbox.filter((m) => m.id !== optimistic.id)
    void refreshConversations().catch(reportBackground)
  }
}

export async function retryMessage(messageId: number): Promise<Message> {
  inbox.retrying.push(messageId)
  try {
    const m = await api.RetryMessage(messageId)
    upsertMessage(m)
    return m
  } finally {
    inbox.retrying = inbox.retrying.filter((x) => x !== messageId)
  }
}

export async function saveChannel(secret: string, token: string): Promise<Status> {
  const s = await api.SaveChannel(secret, token)
  inbox.status = s
  return s
}

export async function clearChannel(): Promise<Status> {
  const s = await api.ClearChannel()
  inbox.status = s
  return s
}

async function refreshAll(): Promise<void> {
  await refreshStatus()
  if (!inbox.status?.error) await Promise.all([refreshConversations(), refreshMessages()])
}

let started = false
/** Loads everything and subscribes to backend events. Safe to call again to retry. */
export async function boot(): Promise<void> {
  inbox.booting = true
  inbox.bootError = null
  try {
    await refreshStatus()
    // A start failure (locked keychain, wrong DB key, …) comes in Status.error;
    // the inbox calls would only fail with errors.notStarted.
    if (!inbox.status?.error) await refreshConversations()
  } catch (err) {
    inbox.bootError = toApiError(err)
    return
  } finally {
    inbox.booting = false
  }
  if (started) return
  started = true

  onEvent('inbox:changed', (p) => {
    void refreshConversations().catch(reportBackground)
    const id = p && typeof p.conversationId === 'number' ? p.conversationId : null
    if (id === null || id === inbox.selectedId) void refreshMessages().catch(reportBackground)
  })
  onEvent('status:changed', (s) => {
    const apply = () => {
      // The engine restarted (mode change): reload what it serves.
      if (!inbox.status?.error) void refreshConversations().catch(reportBackground)
    }
    if (s && typeof s === 'object') {
      inbox.status = s
      apply()
    } else void refreshStatus().then(apply, reportBackground)
  })
  onConnection((state) => {
    inbox.connectionLost = state === 'lost'
    if (state === 'open') void refreshAll().catch(reportBackground)
  })
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', () => {
      if (pageVisible()) void markSelectedReadIfNeeded()
    })
  }
}
