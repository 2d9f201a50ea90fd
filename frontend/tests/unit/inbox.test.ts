import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { Transport } from '../../src/api/transport'
import type { InboxConversation as Conversation, InboxMessage as Message } from '../../src/api'

const noExtras = { unsent: false, hasContent: false, fetch: '', label: '', internal: false }

/** In-memory backend behind a fake transport; it emits like the real one. */
function fakeBackend() {
  // ctl.replyAnswers, when set, holds Reply's answer back after it stored and emitted.
  const ctl: { replyAnswers?: Promise<void> } = {}
  const handlers = new Map<string, ((p: unknown) => void)[]>()
  const emit = (name: string, p: unknown) => (handlers.get(name) ?? []).forEach((cb) => cb(p))
  const conv: Conversation = {
    id: 1,
    lineUserId: 'U1',
    displayName: '佐藤 花子',
    pictureUrl: '',
    followState: 'following',
    status: 'open',
    unread: 0,
    lastMessageAt: 0,
    lastKind: '',
    lastPreview: '',
    unreachable: false,
    assigneeId: 0,
    assigneeName: '',
    customerId: 0,
    customerName: '',
    linked: false,
  }
  const messages: Message[] = []
  const calls: string[] = []
  const methods: Record<string, (...a: never[]) => unknown> = {
    Status: () => ({ sandbox: true, channelConfigured: false, tokenHint: '', version: 'v', dataDir: '/d', staffName: '山田', rejectedWebhooks: 0 }),
    Conversations: () => [structuredClone(conv)],
    Messages: () => structuredClone(messages),
    ConversationPage: () => ({ conversations: [structuredClone(conv)], next: '', unreadTotal: conv.unread }),
    MessagePage: () => ({ messages: structuredClone(messages), more: false }),
    GetConversation: () => structuredClone(conv),
    ConversationNotes: () => [],
    Assignees: () => [],
    CannedReplies: () => [],
    MarkRead: () => {
      conv.unread = 0
      emit('inbox:changed', { conversationId: 1 }) // the real backend emits after MarkRead
      return null
    },
    Reply: async (_id: never, text: never) => {
      const m: Message = { id: messages.length + 1, conversationId: 1, direction: 'out', kind: 'text', body: text, sentBy: '山田', via: 'reply', status: 'sent', error: '', createdAt: Date.now(), ...noExtras }
      messages.push(m)
      emit('inbox:changed', { conversationId: 1 })
      // A slow answer: the event (and the reload it causes) comes first.
      if (ctl.replyAnswers) await ctl.replyAnswers
      return m
    },
  }
  const transport: Transport = {
    kind: 'http',
    async call(method, args) {
      calls.push(method)
      await Promise.resolve()
      return methods[method]!(...(args as never[]))
    },
    on(event, cb) {
      handlers.set(event, [...(handlers.get(event) ?? []), cb])
      return () => {}
    },
    onConnection: () => () => {},
  }
  function customerWrites(text: string) {
    messages.push({ id: messages.length + 1, conversationId: 1, direction: 'in', kind: 'text', body: text, sentBy: '', via: '', status: 'received', error: '', createdAt: Date.now(), ...noExtras })
    conv.unread++
    conv.lastPreview = text
    emit('inbox:changed', { conversationId: 1 })
  }
  return { transport, calls, customerWrites, conv, ctl }
}

const settle = () => new Promise((r) => setTimeout(r, 20))

describe('inbox store', () => {
  beforeEach(async () => {
    vi.resetModules()
    // The stores of the freshly imported modules.
    const { createPinia, setActivePinia } = await import('pinia')
    setActivePinia(createPinia())
  })

  it('shows new messages without reload, marks the open conversation read once, and does not loop', async () => {
    const be = fakeBackend()
    const { setTransport } = await import('../../src/api/client')
    setTransport(be.transport)
    const { inbox, boot, selectConversation, unreadTotal, visibleMessages } = await import('../../src/composables/inbox')
    await boot()
    expect(inbox.conversations).toHaveLength(1)

    be.customerWrites('住宅ローンの金利について教えてください')
    await settle()
    expect(unreadTotal.value).toBe(1)
    expect(be.calls.filter((c) => c === 'MarkRead')).toHaveLength(0) // nothing open yet

    await selectConversation(1)
    await settle()
    expect(visibleMessages.value.map((m) => m.body)).toEqual(['住宅ローンの金利について教えてください'])
    expect(unreadTotal.value).toBe(0)
    expect(be.calls.filter((c) => c === 'MarkRead')).toHaveLength(1)

    // A message into the open conversation is shown and read right away.
    be.customerWrites('よろしくお願いします')
    await settle()
    expect(visibleMessages.value).toHaveLength(2)
    expect(be.calls.filter((c) => c === 'MarkRead')).toHaveLength(2)
    const before = be.calls.length
    await settle()
    expect(be.calls.length).toBe(before) // quiet: no event/MarkRead ping-pong
  })

  it('shows a reply once, as sent', async () => {
    const be = fakeBackend()
    const { setTransport } = await import('../../src/api/client')
    setTransport(be.transport)
    const { boot, selectConversation, sendReply, visibleMessages } = await import('../../src/composables/inbox')
    await boot()
    await selectConversation(1)
    const p = sendReply(1, 'お問い合わせありがとうございます。', '山田')
    expect(visibleMessages.value.map((m) => m.status)).toEqual(['pending'])
    await p
    await settle()
    expect(visibleMessages.value.map((m) => [m.body, m.status])).toEqual([['お問い合わせありがとうございます。', 'sent']])
  })

  it('shows a reply once while its call is still answering and the stored message already arrived', async () => {
    const be = fakeBackend()
    const { setTransport } = await import('../../src/api/client')
    setTransport(be.transport)
    const { boot, selectConversation, sendReply, visibleMessages } = await import('../../src/composables/inbox')
    await boot()
    await selectConversation(1)
    // The same text sent earlier stays shown: only a newer stored reply replaces the pending one.
    const first = await sendReply(1, '承知しました。', '山田')
    expect(first.status).toBe('sent')
    let answer = () => {}
    be.ctl.replyAnswers = new Promise<void>((r) => (answer = r))
    const p = sendReply(1, '承知しました。', '山田')
    expect(visibleMessages.value.map((m) => m.status)).toEqual(['sent', 'pending'])
    await settle() // the event's reload brings the stored reply before the call answers
    expect(visibleMessages.value.map((m) => [m.body, m.status])).toEqual([
      ['承知しました。', 'sent'],
      ['承知しました。', 'sent'],
    ])
    answer()
    await p
    await settle()
    expect(visibleMessages.value).toHaveLength(2)
  })
})
