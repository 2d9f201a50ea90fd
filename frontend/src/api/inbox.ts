// Wire types and calls of the inbox's work features (app/facade/inbox.go,
// internal/inbox, internal/autoreply): paging, filters and search,
// assignment, status, notes, canned replies, image replies, auto-replies.

import type { Conversation, Message } from './types'

export type AssigneeFilter = '' | 'mine' | 'unassigned'
export type StatusFilter = '' | 'open' | 'pending' | 'closed'
export type LinkFilter = '' | 'linked' | 'unlinked'
export type FollowFilter = '' | 'blocked' | 'following'

export interface ListQuery {
  assignee: AssigneeFilter
  status: StatusFilter
  link: LinkFilter
  follow: FollowFilter
  search: string
  /** ListPage.next of the page before; '' for the first page. */
  cursor: string
  limit: number
}

export interface ListPage {
  conversations: Conversation[]
  next: string
  /** Unread messages of every conversation (first pages without search only). */
  unreadTotal: number
}

export interface MessagePage {
  messages: Message[]
  /** Older messages exist. */
  more: boolean
}

export interface Assignee {
  id: number
  displayName: string
}

export interface Note {
  id: number
  conversationId: number
  authorId: number
  authorName: string
  body: string
  createdAt: number
}

export interface CannedReply {
  id: number
  title: string
  body: string
  sort: number
  updatedAt?: number
}

export interface AutoReplyRule {
  id: number
  keyword: string
  match: 'exact' | 'contains'
  reply: string
  priority: number
  enabled: boolean
  updatedAt?: number
}

export interface BusinessDay {
  closed: boolean
  open: string
  close: string
}

export interface BusinessHours {
  timeZone: string
  /** Indexed by weekday, 0 = Sunday. */
  week: BusinessDay[]
  holidays: string[]
  awayEnabled: boolean
  awayText: string
  awayIntervalHours: number
}

/** LINE's API as the background fetcher and sender see it (engine.LineStatus). */
export interface LineStatus {
  reachable: boolean
  /** Unix ms since when LINE does not answer; 0 while it does. */
  downSince: number
  /** Endpoints not answering: profile, content, send. */
  down: string[]
  pendingProfiles: number
  pendingContent: number
  /** Content or profiles LINE would not give (expired, refused). */
  gone: number
  /** Staff replies and auto-replies not yet delivered. */
  waitingSends: number
  /** Pushes and multicasts (campaigns, reminders) not yet accepted. */
  waitingBroadcasts: number
  sandbox: boolean
}

export interface InboxMethods {
  LineStatus(): LineStatus
  FetchContent(messageId: number): void
  ConversationPage(q: ListQuery): ListPage
  GetConversation(conversationId: number): Conversation
  MessagePage(conversationId: number, before: number): MessagePage
  Assignees(): Assignee[]
  AssignConversation(conversationId: number, staffId: number): void
  SetConversationStatus(conversationId: number, status: string): void
  ConversationNotes(conversationId: number): Note[]
  AddNote(conversationId: number, body: string): Note
  DeleteNote(noteId: number): void
  CannedReplies(): CannedReply[]
  ExpandCannedReply(conversationId: number, cannedId: number): string
  SaveCannedReply(c: CannedReply): CannedReply
  DeleteCannedReply(id: number): void
  ReplyImage(conversationId: number, dataUrl: string): Message
  AutoReplyRules(): AutoReplyRule[]
  SaveAutoReplyRule(r: AutoReplyRule): AutoReplyRule
  DeleteAutoReplyRule(id: number): void
  BusinessHours(): BusinessHours
  SaveBusinessHours(s: BusinessHours): BusinessHours
}

type Call = <M extends keyof InboxMethods>(method: M, ...args: Parameters<InboxMethods[M]>) => Promise<ReturnType<InboxMethods[M]>>

export function inboxApi(call: Call) {
  return {
    ConversationPage: async (q: ListQuery) => {
      const p = await call('ConversationPage', q)
      return { conversations: p?.conversations ?? [], next: p?.next ?? '', unreadTotal: p?.unreadTotal ?? 0 }
    },
    GetConversation: (id: number) => call('GetConversation', id),
    MessagePage: async (id: number, before: number) => {
      const p = await call('MessagePage', id, before)
      return { messages: p?.messages ?? [], more: !!p?.more }
    },
    Assignees: async () => (await call('Assignees')) ?? [],
    AssignConversation: (id: number, staffId: number) => call('AssignConversation', id, staffId),
    SetConversationStatus: (id: number, status: string) => call('SetConversationStatus', id, status),
    ConversationNotes: async (id: number) => (await call('ConversationNotes', id)) ?? [],
    AddNote: (id: number, body: string) => call('AddNote', id, body),
    DeleteNote: (id: number) => call('DeleteNote', id),
    CannedReplies: async () => (await call('CannedReplies')) ?? [],
    ExpandCannedReply: (id: number, cannedId: number) => call('ExpandCannedReply', id, cannedId),
    SaveCannedReply: (c: CannedReply) => call('SaveCannedReply', c),
    DeleteCannedReply: (id: number) => call('DeleteCannedReply', id),
    ReplyImage: (id: number, dataUrl: string) => call('ReplyImage', id, dataUrl),
    AutoReplyRules: async () => (await call('AutoReplyRules')) ?? [],
    SaveAutoReplyRule: (r: AutoReplyRule) => call('SaveAutoReplyRule', r),
    DeleteAutoReplyRule: (id: number) => call('DeleteAutoReplyRule', id),
    LineStatus: () => call('LineStatus'),
    FetchContent: (messageId: number) => call('FetchContent', messageId),
    BusinessHours: () => call('BusinessHours'),
    SaveBusinessHours: (s: BusinessHours) => call('SaveBusinessHours', s),
  }
}

/** Largest image LINE accepts (originalContentUrl). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024
