// Wire types of the bound Go object (app/facade.App). Keep in sync with the
// Go side; all timestamps are unix milliseconds.

import type { SecurityMethods } from './security'
import type { CustomerEvents, CustomerMethods } from './customers'
import type { AboutMethods } from './about'
import type { InboxMethods } from './inbox'

export interface Status {
  sandbox: boolean
  channelConfigured: boolean
  tokenHint: string
  version: string
  dataDir: string
  staffName: string
  rejectedWebhooks: number
  /**
   * Set (a message code) when the engine could not start, e.g. a locked
   * keychain; the inbox calls then fail with errors.notStarted.
   * Not in the first contract draft; sent by app/facade.
   */
  error?: string
}

export type FollowState = 'following' | 'unfollowed' | 'unknown'
export type ConversationStatus = 'open' | 'pending' | 'closed'

export interface Conversation {
  id: number
  lineUserId: string
  displayName: string
  pictureUrl: string
  followState: FollowState
  /** LINE answered 404 for the profile: blocked, not a friend, or no consent. */
  unreachable?: boolean
  status: ConversationStatus
  unread: number
  lastMessageAt: number
  /** Kind of the last message (text, sticker, follow, ...); lastPreview is its body. */
  lastKind: string
  lastPreview: string
  /** Assignment and customer link (api/inbox.ts); 0 when none. */
  assigneeId?: number
  assigneeName?: string
  customerId?: number
  customerName?: string
  linked?: boolean
  /** Search results: the newest matching message and a snippet of it. */
  matchMessageId?: number
  snippet?: string
}

export type MessageKind =
  | 'text'
  | 'sticker'
  | 'image'
  | 'video'
  | 'audio'
  | 'file'
  | 'location'
  | 'follow'
  | 'unfollow'
  | 'postback'
  | 'videoPlayComplete'
  | 'accountLink'
  | 'other'
  | (string & {})
export type MessageStatus = 'received' | 'pending' | 'sent' | 'failed'
export type ContentFetch = '' | 'pending' | 'expired' | 'refused' | 'too_large' | (string & {})

export interface Message {
  id: number
  conversationId: number
  direction: 'in' | 'out'
  kind: MessageKind
  body: string
  sentBy: string
  via: 'reply' | 'push' | '' | (string & {})
  status: MessageStatus
  /** Error code (see ApiError), empty when none. */
  error: string
  createdAt: number
  /** The customer took the message back; its body is erased. */
  unsent?: boolean
  /** Downloaded media is stored (MessageContent). */
  hasContent?: boolean
  /**
   * Media not (yet) stored: 'pending' while the background fetcher gets it
   * from LINE, 'expired' when LINE no longer has it, 'refused' or
   * 'too_large' when it could not be fetched; '' when there is nothing to
   * fetch.
   */
  fetch?: ContentFetch
  /** Postback: what the button said, when the sender registered it. */
  label?: string
  /** A hook handled it (e.g. a link code): never counted unread. */
  internal?: boolean
}

/** The channel's monthly message allowance. */
/** How the official account behaves towards customers (administrators set it). */
export interface LineSettings {
  /** Opening a conversation marks the customer's messages read on LINE (既読). */
  markReadOnLine: boolean
}

export interface LineQuota {
  limited: boolean
  limit: number
  used: number
}

/** The sandbox's outage drill: how the simulated LINE API fails ('' = it answers). */
export type OutageMode = '' | 'refuse' | 'reset' | 'blackhole'

export interface SimCustomer {
  userId: string
  displayName: string
  following: boolean
}

export interface PhoneMessage {
  from: 'customer' | 'official'
  /** text, sticker, image, postback, flex ...; older builds send none. */
  type?: string
  text: string
  at: number
}

/** Every method of the bound Go object, with its argument and result types. */
export interface BackendMethods extends SecurityMethods, CustomerMethods, InboxMethods, AboutMethods {
  Status(): Status
  Conversations(): Conversation[]
  Messages(conversationId: number): Message[]
  MarkRead(conversationId: number): void
  Reply(conversationId: number, text: string): Message
  RetryMessage(messageId: number): Message
  SandboxCustomers(): SimCustomer[]
  SandboxChat(userId: string): PhoneMessage[]
  SandboxSend(userId: string, text: string): void
  SandboxFollow(userId: string, follow: boolean): void
  SandboxSendSticker(userId: string, packageId: string, stickerId: string): void
  SandboxSendImage(userId: string): void
  SandboxPostback(userId: string, label: string, data: string): void
  SandboxSetOutage(mode: OutageMode, slowMs: number): void
  SandboxExpireContent(all: boolean): void
  Quota(): LineQuota
  LineSettings(): LineSettings
  SetLineSettings(s: LineSettings): LineSettings
  MessageContent(messageId: number): string
  SaveChannel(secret: string, accessToken: string): Status
  ClearChannel(): Status
}

export type MethodName = keyof BackendMethods

export interface BackendEvents extends CustomerEvents {
  'inbox:changed': { conversationId: number }
  /** LINE's API became unreachable or reachable again (read LineStatus). */
  'inbox:lineStatus': { reachable: boolean }
  'sandbox:phone': { userId: string }
  'status:changed': Status
}

export type EventName = keyof BackendEvents

/** Longest text LINE accepts in one text message. */
export const MAX_MESSAGE_LENGTH = 5000
