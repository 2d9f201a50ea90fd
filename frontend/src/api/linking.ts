// Wire types and calls of customer linking (app/facade/linking.go,
// internal/linking): link codes, manual links, settings.
import { transport } from './client'
import { notifySessionError } from './session-errors'
import { toErrorCode } from './errors'
import type { Customer, CustomerCard } from './customers'

export interface LineLinkInfo {
  customerId: number
  lineUserId: string
  /** 0: no conversation yet. */
  conversationId: number
  method: 'manual' | 'code' | 'import' | (string & {})
  linkedBy: string
  linkedAt: number
}

export interface ConversationLink {
  conversationId: number
  /** The LINE profile name (masked for the agency role). */
  displayName: string
  linked: boolean
  link: LineLinkInfo | null
  /** The linked customer's card (masked for the agency role). */
  card: CustomerCard | null
}

export interface LinkCodeInfo {
  id: number
  delivery: LinkDelivery
  state: 'pending' | 'verifying'
  issuedBy: string
  createdAt: number
  expiresAt: number
}

export interface CustomerLink {
  customerId: number
  link: LineLinkInfo | null
  lineDisplayName: string
  followState: string
  openCode: LinkCodeInfo | null
  /** Where a code can be sent: { email: [...], sms: [...] } (empty without email/SMS). */
  destinations: Partial<Record<'email' | 'sms', string[]>>
}

export type LinkDelivery = 'letter' | 'email' | 'sms'

export interface IssueRequest {
  customerId: number
  delivery: LinkDelivery
  destination: string
}

export interface LinkLetter {
  customerNo: string
  name: string
  branch: string
  /** XXXX-XXXX: shown only on this letter, never stored. */
  code: string
  issuedAt: number
  expiresAt: number
  /** '' when LINE could not be asked: the letter then has no QR code. */
  basicId: string
  chatUrl: string
  qrDataUrl: string
  prefill: string
}

export interface IssuedCode {
  codeId: number
  expiresAt: number
  delivery: LinkDelivery
  /** 'sent' or 'failed' for email and SMS; '' for letters. */
  sendStatus: '' | 'sent' | 'failed'
  letter: LinkLetter | null
}

export interface LinkingSettings {
  codeValidityDays: number
  identityCheck: 'off' | 'birthDate'
  canEmail: boolean
  canSms: boolean
}

function call<T>(method: string, ...args: unknown[]): Promise<T> {
  return (transport().call(method, args) as Promise<T>).catch((err: unknown) => {
    notifySessionError(err)
    throw err
  })
}

export const linkingApi = {
  ConversationCustomer: (conversationId: number) => call<ConversationLink>('ConversationCustomer', conversationId),
  CustomerLink: (customerId: number) => call<CustomerLink>('CustomerLink', customerId),
  LinkSearchCustomers: async (query: string) => (await call<Customer[] | null>('LinkSearchCustomers', query)) ?? [],
  LinkConversation: (conversationId: number, customerId: number) => call<void>('LinkConversation', conversationId, customerId),
  RelinkConversation: (conversationId: number, customerId: number, reason: string) =>
    call<void>('RelinkConversation', conversationId, customerId, reason),
  UnlinkCustomer: (customerId: number, reason: string) => call<void>('UnlinkCustomer', customerId, reason),
  IssueLinkCode: (req: IssueRequest) => call<IssuedCode>('IssueLinkCode', req),
  RevokeLinkCode: (customerId: number) => call<void>('RevokeLinkCode', customerId),
  LinkingSettings: () => call<LinkingSettings>('LinkingSettings'),
  SetLinkingSettings: (s: Pick<LinkingSettings, 'codeValidityDays' | 'identityCheck'>) => call<void>('SetLinkingSettings', s),
}

/** Error codes of the linking feature, translated under linking.errors. */
const LINKING_ERRORS = [
  'linkCustomerTaken',
  'linkUserTaken',
  'linkNotLinked',
  'linkReasonRequired',
  'linkNoNotifier',
  'linkDestination',
  'linkNoBirthDate',
] as const

/** The catalog key of a linking error code, or null for any other error. */
export function linkingErrorKey(err: unknown): string | null {
  const bare = toErrorCode(err).replace(/^errors\./, '')
  return (LINKING_ERRORS as readonly string[]).includes(bare) ? `linking.errors.${bare}` : null
}
