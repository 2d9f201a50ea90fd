import { computed, reactive } from 'vue'
import { api, onConnection, onEvent, toApiError, type InboxAssignee, type InboxCannedReply, type InboxConversation, type InboxListQuery, type InboxMessage, type InboxNote } from '../api'
import { useSession } from '../stores/session'
import { useAppStatus } from '../stores/appStatus'

/**
 * App-wide state of the clerk's inbox. One instance per window; components
 * read `inbox` and call the actions below. Actions reject with ApiError.
 */
export const inbox = reactive({
  booting: true,
  bootError: null as unknown,
  connectionLost: false,
  conversations: [] as InboxConversation[],
  conversationsLoaded: false,
  /** Filters and search of the list; changing them reloads it. */
  query: { assignee: '', status: '', link: '', follow: '', search: '' } as Omit<InboxListQuery, 'cursor' | 'limit'>,
  /** Cursor of the next page ('' when everything is loaded). */
  next: '',
  loadingMore: false,
  /** Unread messages of all conversations, from the server (null: unknown). */
  serverUnread: null as number | null,
  /** The selected conversation when the loaded pages do not hold it. */
  selectedExtra: null as InboxConversation | null,
  /** Older messages exist before inbox.messages[0]. */
  messagesMore: false,
  notes: [] as InboxNote[],
  assignees: [] as InboxAssignee[],
  canned: [] as InboxCannedReply[],
  selectedId: null as number | null,
  /** Server messages of the selected conversation (chronological). */
  messages: [] as InboxMessage[],
  messagesLoading: false,
  /** Outgoing replies not yet answered by the backend (negative ids). */
  outbox: [] as InboxMessage[],
  retrying: [] as number[],
  drafts: {} as Record<number, string>,
  /** Last failure of something the clerk did not directly trigger. */
  backgroundError: null as { err: unknown; at: number } | null,
})

export const selectedConversation = computed<InboxConversation | null>(
  () =>
    inbox.conversations.find((c) => c.id === inbox.selectedId) ??
    (inbox.selectedExtra?.id === inbox.selectedId ? inbox.selectedExtra : null),
)

export const unreadTotal = computed(
  () => inbox.serverUnread ?? inbox.conversations.reduce((n, c) => n + (c.unread > 0 ? c.unread : 0), 0),
)

// The newest stored message id when each reply was sent: a stored reply
// newer than that with the same text by the same person is that reply.
const sentAfter = new Map<number, number>()

/** Messages to show: server list plus this conversation's unanswered replies
 *  (a reply whose stored message already arrived, by an event or a reload,
 *  before its call answered is shown once, as the stored one). */
export const visibleMessages = computed<InboxMessage[]>(() => {
  const id = inbox.selectedId
  if (id === null) return []
  const pending = inbox.outbox.filter(
    (o) =>
      o.conversationId === id &&
      !inbox.messages.some((m) => m.direction === 'out' && m.id > (sentAfter.get(o.id) ?? Infinity) && m.body === o.body && m.sentBy === o.sentBy),
  )
  return [...inbox.messages, ...pending]
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

/** The app's status (mode, channel, start failure): the appStatus store. */
export async function refreshStatus(): Promise<void> {
  await useAppStatus().refresh()
}

const PAGE = 50
const MAX_RELOAD = 200
let listToken = 0

/**
 * Reloads the list from the first page, as deep as what is loaded (at most
 * MAX_RELOAD rows), so a change elsewhere keeps the clerk's scroll place.
 * The server's unread total feeds the badge and the desktop notifications
 * (composables/desktopNotify.ts), whatever the list's filters.
 */
export const refreshConversations = serialized(async () => {
  const token = ++listToken
  const limit = Math.min(MAX_RELOAD, Math.max(PAGE, inbox.conversations.length))
  const page = await api.ConversationPage({ ...inbox.query, cursor: '', limit })
  if (token !== listToken) return
  inbox.conversations = page.conversations
  inbox.next = page.next
  inbox.serverUnread = inbox.query.search ? inbox.serverUnread : page.unreadTotal
  inbox.conversationsLoaded = true
  if (inbox.selectedId !== null && !page.conversations.some((c) => c.id === inbox.selectedId)) {
    void refreshSelectedExtra().catch(reportBackground)
  }
  await markSelectedReadIfNeeded()
})

async function refreshSelectedExtra() {
  const id = inbox.selectedId
  if (id === null) return
  const c = await api.GetConversation(id)
  if (inbox.selectedId === id) inbox.selectedExtra = c
}

/** Loads the next page of the list (infinite scroll). */
export async function loadMoreConversations(): Promise<void> {
  if (!inbox.next || inbox.loadingMore) return
  inbox.loadingMore = true
  const token = listToken
  try {
    const page = await api.ConversationPage({ ...inbox.query, cursor: inbox.next, limit: PAGE })
    if (token !== listToken) return
    const have = new Set(inbox.conversations.map((c) => c.id))
    inbox.conversations.push(...page.conversations.filter((c) => !have.has(c.id)))
    inbox.next = page.next
  } finally {
    inbox.loadingMore = false
  }
}

/** Applies new filters or a new search: the list starts again at its top. */
export async function setQuery(q: Partial<typeof inbox.query>): Promise<void> {
  Object.assign(inbox.query, q)
  inbox.conversations = []
  inbox.next = ''
  inbox.conversationsLoaded = false
  await refreshConversations()
}

let messagesToken = 0
/** Reloads the newest messages, keeping older ones already loaded above them. */
export const refreshMessages = serialized(async () => {
  const id = inbox.selectedId
  if (id === null) return
  const token = ++messagesToken
  const page = await api.MessagePage(id, 0)
  if (token !== messagesToken || inbox.selectedId !== id) return
  const first = page.messages[0]?.id ?? Infinity
  const older = inbox.messages.filter((m) => m.conversationId === id && m.id < first)
  inbox.messages = [...older, ...page.messages]
  if (older.length === 0) inbox.messagesMore = page.more
})

/** Loads the page of messages before the oldest shown. */
export async function loadOlderMessages(): Promise<void> {
  const id = inbox.selectedId
  const oldest = inbox.messages[0]
  if (id === null || !oldest) return
  const page = await api.MessagePage(id, oldest.id)
  if (inbox.selectedId !== id) return
  inbox.messages = [...page.messages, ...inbox.messages]
  inbox.messagesMore = page.more
}

export async function refreshNotes(): Promise<void> {
  const id = inbox.selectedId
  if (id === null) return
  const list = await api.ConversationNotes(id)
  if (inbox.selectedId === id) inbox.notes = list
}

export async function addNote(body: string): Promise<InboxNote> {
  const id = inbox.selectedId
  if (id === null) throw new Error('no conversation')
  const n = await api.AddNote(id, body)
  if (inbox.selectedId === id && !inbox.notes.some((x) => x.id === n.id)) inbox.notes.push(n)
  return n
}

export async function deleteNote(noteId: number): Promise<void> {
  await api.DeleteNote(noteId)
  inbox.notes = inbox.notes.filter((n) => n.id !== noteId)
}

export async function loadAssignees(): Promise<void> {
  inbox.assignees = await api.Assignees()
}

export async function loadCanned(): Promise<void> {
  inbox.canned = useSession().can('inbox.reply') ? await api.CannedReplies() : []
}

function patchConversation(id: number, patch: Partial<InboxConversation>) {
  const c = inbox.conversations.find((x) => x.id === id) ?? (inbox.selectedExtra?.id === id ? inbox.selectedExtra : null)
  if (c) Object.assign(c, patch)
}

export async function assign(conversationId: number, staffId: number): Promise<void> {
  await api.AssignConversation(conversationId, staffId)
  patchConversation(conversationId, {
    assigneeId: staffId,
    assigneeName: inbox.assignees.find((a) => a.id === staffId)?.displayName ?? '',
  })
  void refreshConversations().catch(reportBackground)
}

export async function setStatus(conversationId: number, status: InboxConversation['status']): Promise<void> {
  await api.SetConversationStatus(conversationId, status)
  patchConversation(conversationId, { status })
  void refreshConversations().catch(reportBackground)
}

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
  const session = useSession()
  if (!conv || conv.unread <= 0 || !pageVisible() || marking === conv.id || (session.state && !session.can('inbox.reply'))) return
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
  inbox.messagesMore = false
  inbox.notes = []
  if (id === null) return
  if (!inbox.conversations.some((c) => c.id === id)) void refreshSelectedExtra().catch(reportBackground)
  inbox.messagesLoading = true
  try {
    await Promise.all([refreshMessages(), markSelectedReadIfNeeded(), refreshNotes()])
  } finally {
    if (inbox.selectedId === id) inbox.messagesLoading = false
  }
}

function upsertMessage(m: InboxMessage) {
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
export async function sendReply(conversationId: number, text: string, staffName: string, tracked: string[] = []): Promise<InboxMessage> {
  const optimistic: InboxMessage = {
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
    unsent: false,
    hasContent: false,
    fetch: '',
    label: '',
    internal: false,
  }
  sentAfter.set(optimistic.id, Math.max(0, ...inbox.messages.filter((m) => m.conversationId === conversationId).map((m) => m.id)))
  inbox.outbox.push(optimistic)
  try {
    // Links the clerk chose to track (none by default) go through ReplyTracked.
    const saved = tracked.length ? await api.ReplyTracked(conversationId, text, tracked) : await api.Reply(conversationId, text)
    upsertMessage(saved)
    return saved
  } finally {
    inbox.outbox = inbox.outbox.filter((m) => m.id !== optimistic.id)
    sentAfter.delete(optimistic.id)
    void refreshConversations().catch(reportBackground)
  }
}

/** Sends an image (a data URL of a JPEG or PNG) as the signed-in staff member. */
export async function sendImage(conversationId: number, dataUrl: string): Promise<InboxMessage> {
  try {
    const saved = await api.ReplyImage(conversationId, dataUrl)
    upsertMessage(saved)
    return saved
  } finally {
    void refreshConversations().catch(reportBackground)
  }
}

export async function retryMessage(messageId: number): Promise<InboxMessage> {
  inbox.retrying.push(messageId)
  try {
    const m = await api.RetryMessage(messageId)
    upsertMessage(m)
    return m
  } finally {
    inbox.retrying = inbox.retrying.filter((x) => x !== messageId)
  }
}

async function refreshAll(): Promise<void> {
  await refreshStatus()
  if (!useAppStatus().current?.error) await Promise.all([refreshConversations(), refreshMessages()])
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
    if (!useAppStatus().current?.error) {
      await refreshConversations()
      void loadAssignees().catch(reportBackground)
      void loadCanned().catch(reportBackground)
    }
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
    if (id === null || id === inbox.selectedId) {
      void refreshMessages().catch(reportBackground)
      void refreshNotes().catch(reportBackground)
    }
  })
  onEvent('status:changed', (s) => {
    const apply = () => {
      // The engine restarted (mode change): reload what it serves.
      if (!useAppStatus().current?.error) void refreshConversations().catch(reportBackground)
    }
    if (s && typeof s === 'object') {
      useAppStatus().current = s
      apply()
    } else void refreshStatus().then(apply, reportBackground)
  })
  onConnection((state) => {
    inbox.connectionLost = state === 'lost'
    if (state === 'open') void refreshAll().catch(reportBackground)
  })
  // A seat whose primary is back may have missed events meanwhile.
  onEvent('seat:connection', (c) => {
    if (c.state === 'connected') void refreshAll().catch(reportBackground)
  })
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', () => {
      if (pageVisible()) void markSelectedReadIfNeeded()
    })
  }
}
