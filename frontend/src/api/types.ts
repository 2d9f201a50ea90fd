// Wire types of the bound Go object (app/facade.App). Keep in sync with the
// Go side; all timestamps are unix milliseconds.

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
  status: ConversationStatus
  unread: number
  lastMessageAt: number
  /** Kind of the last message (text, sticker, follow, ...); lastPreview is its body. */
  lastKind: string
  lastPreview: string
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
  | 'other'
  | (string & {})
export type MessageStatus = 'received' | 'pending' | 'sent' | 'failed'

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
}

export interface SimCustomer {
  userId: string
  displayName: string
  following: boolean
}

export interface PhoneMessage {
  from: 'customer' | 'official'
  text: string
  at: number
}

/** Every method of the bound Go object, with its argument and result types. */
export interface BackendMethods {
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
  SaveChannel(secret: string, accessToken: string): Status
  ClearChannel(): Status
}

export type MethodName = keyof BackendMethods

export interface BackendEvents {
  'inbox:changed': { conversationId: number }
  'sandbox:phone': { userId: string }
  'status:changed': Status
}

export type EventName = keyof BackendEvents

/** Longest text LINE accepts in one text message. */
export const MAX_MESSAGE_LENGTH = 5000
