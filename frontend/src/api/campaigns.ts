// Wire types and calls of segments, campaigns and the email/SMS settings
// (app/facade/campaigns.go, internal/segment, internal/campaign,
// internal/mail, internal/sms). Timestamps are unix milliseconds.
import { transport } from './client'
import { notifySessionError } from './session-errors'
import { toErrorCode } from './errors'

// ------------------------------------------------------------ segments ----

export type ConditionKind = 'field' | 'product' | 'attribute' | 'tag' | 'line' | 'consent' | 'lastContact' | 'survey'
export type Cmp = 'eq' | 'ne' | 'in' | 'lt' | 'le' | 'gt' | 'ge' | 'between' | 'contains' | 'prefix'

/** One test on a customer (segment.Condition); which fields matter depends on kind. */
export interface Condition {
  kind: ConditionKind
  field?: string
  cmp?: Cmp
  value?: string
  values?: string[]
  minAge?: number
  maxAge?: number
  productType?: string
  productCode?: string
  productStatus?: '' | 'active' | 'closed' | 'any'
  maturesFromDays?: number
  maturesToDays?: number
  amountBand?: string
  key?: string
  direction?: 'in' | 'out' | 'any'
  days?: number
  survey?: string
  question?: string
}

/** A rule tree node (segment.Node): a group (op) or a condition (cond); not = exclusion. */
export interface RuleNode {
  op?: 'and' | 'or'
  not?: boolean
  children?: RuleNode[]
  cond?: Condition
}

export interface SegmentCounts {
  total: number
  active: number
  line: number
  email: number
  sms: number
  ms: number
}

export interface Segment {
  id: number
  name: string
  rules: RuleNode
  createdBy: string
  updatedBy: string
  updatedAt: number
}

export interface SegmentRow {
  id: number
  customerNo: string
  name: string
  branch: string
  status: string
  email: string
  mobile: string
  linked: boolean
  following: boolean
  consents: string[]
}

export interface SegmentPreview {
  total: number
  offset: number
  rows: SegmentRow[]
}

// ----------------------------------------------------------- campaigns ----

export type Channel = 'line' | 'email' | 'sms'
export type CampaignStatus = 'draft' | 'approved' | 'scheduled' | 'sending' | 'paused' | 'done' | 'cancelled'

export interface LineMessage {
  kind: 'text' | 'image' | 'flex'
  text?: string
  imageUrl?: string
  previewUrl?: string
  template?: string
  fields?: Record<string, string>
}

export interface CampaignContent {
  line: LineMessage[]
  email: { subject: string; text: string }
  sms: { text: string }
}

export interface CampaignDraft {
  name: string
  segmentId: number
  rules: RuleNode
  content: CampaignContent
  channels: Channel[]
}

export interface Campaign extends CampaignDraft {
  id: number
  status: CampaignStatus
  version: number
  author: string
  approvedBy: string
  approvedVersion: number
  approvedAt: number
  scheduledAt: number
  timeZone: string
  startedAt: number
  finishedAt: number
  error: string
  createdAt: number
  updatedAt: number
}

export type SkipReason = 'no_consent' | 'blocked' | 'no_contact' | 'inactive' | 'duplicate'

export interface CampaignPlan {
  matched: number
  line: number
  email: number
  sms: number
  skipped: Partial<Record<SkipReason, number>>
  lineGroups: number
  lineRequests: number
  quotaNeed: number
  quotaChecked: boolean
  quotaLimited: boolean
  quotaLeft: number
  quotaLimit: number
  quotaError: string
}

export interface SmsLength {
  chars: number
  parts: number
  ucs2: boolean
  maxChars: number
  tooLong: boolean
}

export interface FlexTemplate {
  name: string
  label: string
  fields: string[]
  needed: string[]
}

export interface ContentPreview {
  /** LINE message objects as sent (text, image, flex). */
  line: Record<string, unknown>[]
  emailSubject: string
  emailText: string
  smsText: string
  smsLength: SmsLength
  templates: FlexTemplate[]
  placeholders: string[]
  /** channel → message code of what is wrong with it. */
  errors: Partial<Record<Channel, string>>
  sample: { name: string; branch: string; staff: string }
}

export interface ChannelReport {
  channel: Channel
  planned: number
  sent: number
  failed: number
  pending: number
  uncertain: number
}

export interface CampaignReport {
  campaignId: number
  status: CampaignStatus
  matched: number
  channels: ChannelReport[]
  skipped: Partial<Record<SkipReason, number>>
  lineRequests: number
  lineSent: number
  lineFailed: number
  linePending: number
  timeline: { at: number; line: number; email: number; sms: number }[]
  startedAt: number
  finishedAt: number
  error: string
}

export type DeliveryStatus = 'skipped' | 'pending' | 'sending' | 'sent' | 'failed' | 'uncertain'

export interface Delivery {
  customerId: number
  customerNo: string
  name: string
  channel: Channel | 'none'
  address: string
  status: DeliveryStatus
  skipReason: SkipReason | ''
  error: string
  sentAt: number
}

export interface DeliveryFilter {
  channel: '' | Channel | 'none'
  status: '' | DeliveryStatus
  offset: number
  limit: number
}

export interface DeliveryPage {
  total: number
  rows: Delivery[]
}

export interface ReportExport {
  /** Empty when the person cancelled the save dialog. */
  path: string
  rows: number
}

// --------------------------------------------------- delivery settings ----

export type MailTls = 'starttls' | 'tls' | 'none'

export interface MailSettings {
  host: string
  port: number
  tls: MailTls
  user: string
  from: string
  fromName: string
}

export interface SmsSettings {
  provider: '' | 'twilio' | 'webhook'
  accountSid: string
  from: string
  webhookUrl: string
}

/** Secrets are never read back: only whether they are set. */
export interface DeliverySettings {
  mail: MailSettings
  mailConfigured: boolean
  mailPasswordSet: boolean
  sms: SmsSettings
  smsConfigured: boolean
  smsCredentialSet: boolean
}

// --------------------------------------------------------------- calls ----

export interface CampaignMethods {
  SegmentCount(rules: RuleNode): SegmentCounts
  SegmentPreview(rules: RuleNode, offset: number, limit: number): SegmentPreview
  Segments(): Segment[] | null
  SaveSegment(seg: Pick<Segment, 'id' | 'name' | 'rules'>): Segment
  DeleteSegment(id: number): void
  Campaigns(): Campaign[] | null
  Campaign(id: number): Campaign
  CreateCampaign(d: CampaignDraft): Campaign
  UpdateCampaign(id: number, version: number, d: CampaignDraft): Campaign
  CampaignPlan(id: number): CampaignPlan
  CampaignPlanDraft(d: CampaignDraft): CampaignPlan
  PreviewCampaignContent(c: CampaignContent): ContentPreview
  ApproveCampaign(id: number, version: number): Campaign
  ScheduleCampaign(id: number, local: string, timeZone: string): Campaign
  SendCampaign(id: number): Campaign
  CancelCampaign(id: number): Campaign
  PauseCampaign(id: number): Campaign
  ResumeCampaign(id: number): Campaign
  CampaignReport(id: number): CampaignReport
  CampaignDeliveries(id: number, f: DeliveryFilter): DeliveryPage
  ExportCampaignReport(id: number): ReportExport
  GetDeliverySettings(): DeliverySettings
  SaveMailSettings(s: MailSettings, password: string): void
  SaveSMSSettings(s: SmsSettings, credential: string): void
  SendTestEmail(to: string): void
  SendTestSMS(to: string): void
}

function call<M extends keyof CampaignMethods>(
  method: M,
  ...args: Parameters<CampaignMethods[M]>
): Promise<ReturnType<CampaignMethods[M]>> {
  return (transport().call(method, args) as Promise<ReturnType<CampaignMethods[M]>>).catch((err: unknown) => {
    notifySessionError(err)
    throw err
  })
}

export const campaignsApi = {
  SegmentCount: (rules: RuleNode) => call('SegmentCount', rules),
  SegmentPreview: (rules: RuleNode, offset: number, limit: number) => call('SegmentPreview', rules, offset, limit),
  Segments: async () => (await call('Segments')) ?? [],
  SaveSegment: (seg: Pick<Segment, 'id' | 'name' | 'rules'>) => call('SaveSegment', seg),
  DeleteSegment: (id: number) => call('DeleteSegment', id),
  Campaigns: async () => (await call('Campaigns')) ?? [],
  Campaign: (id: number) => call('Campaign', id),
  CreateCampaign: (d: CampaignDraft) => call('CreateCampaign', d),
  UpdateCampaign: (id: number, version: number, d: CampaignDraft) => call('UpdateCampaign', id, version, d),
  CampaignPlan: (id: number) => call('CampaignPlan', id),
  CampaignPlanDraft: (d: CampaignDraft) => call('CampaignPlanDraft', d),
  PreviewCampaignContent: (c: CampaignContent) => call('PreviewCampaignContent', c),
  ApproveCampaign: (id: number, version: number) => call('ApproveCampaign', id, version),
  ScheduleCampaign: (id: number, local: string, timeZone: string) => call('ScheduleCampaign', id, local, timeZone),
  SendCampaign: (id: number) => call('SendCampaign', id),
  CancelCampaign: (id: number) => call('CancelCampaign', id),
  PauseCampaign: (id: number) => call('PauseCampaign', id),
  ResumeCampaign: (id: number) => call('ResumeCampaign', id),
  CampaignReport: (id: number) => call('CampaignReport', id),
  CampaignDeliveries: (id: number, f: DeliveryFilter) => call('CampaignDeliveries', id, f),
  ExportCampaignReport: (id: number) => call('ExportCampaignReport', id),
  GetDeliverySettings: () => call('GetDeliverySettings'),
  SaveMailSettings: (s: MailSettings, password: string) => call('SaveMailSettings', s, password),
  SaveSMSSettings: (s: SmsSettings, credential: string) => call('SaveSMSSettings', s, credential),
  SendTestEmail: (to: string) => call('SendTestEmail', to),
  SendTestSMS: (to: string) => call('SendTestSMS', to),
}

/** Error codes of segments, campaigns and delivery settings, translated under campaigns.errors. */
export const CAMPAIGN_ERRORS = [
  'segmentInvalid',
  'campaignInvalid',
  'campaignState',
  'campaignOwnApproval',
  'campaignNotApproved',
  'campaignStale',
  'campaignQuota',
  'campaignOffline',
  'campaignNoMailer',
  'campaignNoSms',
  'campaignPast',
  'mailSettings',
  'smsSettings',
  'testSendFailed',
] as const

/** The catalog key of a campaign error code, or null for any other error. */
export function campaignErrorKey(err: unknown): string | null {
  const bare = toErrorCode(err).replace(/^errors\./, '')
  return (CAMPAIGN_ERRORS as readonly string[]).includes(bare) ? `campaigns.errors.${bare}` : null
}
