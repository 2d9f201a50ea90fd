// Wire types and calls of automated messages (app/facade/automations.go,
// internal/automation): welcome series and date reminders. Timestamps are
// unix milliseconds; dates 'YYYY-MM-DD' in the rule's time zone.
import { transport } from './client'
import { notifySessionError } from './session-errors'
import { toErrorCode } from './errors'
import type { CampaignContent, Channel, LineMessage, RuleNode } from './campaigns'

export type AutomationKind = 'welcome' | 'date'
export type DateField = 'maturity' | 'anniversary' | 'birthday'
export type AutomationStatus = 'draft' | 'active' | 'paused'

/** One welcome message: delayDays after the follow at `at` (HH:MM), or delayHours after it when `at` is ''. */
export interface WelcomeStep {
  delayDays: number
  delayHours: number
  at: string
  messages: LineMessage[]
}

/** What a rule does (automation.Spec). */
export interface AutomationSpec {
  field?: DateField
  productType?: string
  offsetDays: number // send day = date + offsetDays (-7: a week before)
  segmentId: number
  rules: RuleNode
  channels?: Channel[]
  content: CampaignContent
  steps?: WelcomeStep[]
  at: string
  timeZone: string
  latenessMinutes: number
}

export interface AutomationDraft {
  name: string
  kind: AutomationKind
  spec: AutomationSpec
}

export interface Automation extends AutomationDraft {
  id: number
  status: AutomationStatus
  version: number
  author: string
  approvedBy: string
  approvedVersion: number
  approvedAt: number
  checkedThrough: string
  createdAt: number
  updatedAt: number
}

export interface PreviewDay {
  date: string
  line: number
  email: number
  sms: number
  skipped: number
}

export interface AutomationPreview {
  days: PreviewDay[]
  line: number
  email: number
  sms: number
  skipped: number
  welcome: boolean
  ms: number
}

export interface AutomationStats {
  sent: number
  sending: number
  failed: number
  uncertain: number
  skipped: Record<string, number>
  lastSent: number
}

/** Whether the current version carries an approval by someone other than its author. */
export function isApproved(a: Automation): boolean {
  return a.approvedBy !== '' && a.approvedBy !== a.author && a.approvedVersion === a.version
}

export interface AutomationMethods {
  Automations(): Automation[] | null
  CreateAutomation(d: AutomationDraft): Automation
  UpdateAutomation(id: number, version: number, d: AutomationDraft): Automation
  DeleteAutomation(id: number): void
  ApproveAutomation(id: number, version: number): Automation
  ActivateAutomation(id: number): Automation
  PauseAutomation(id: number): Automation
  PreviewAutomation(id: number): AutomationPreview
  PreviewAutomationDraft(d: AutomationDraft): AutomationPreview
  AutomationStats(id: number): AutomationStats
}

function call<M extends keyof AutomationMethods>(
  method: M,
  ...args: Parameters<AutomationMethods[M]>
): Promise<ReturnType<AutomationMethods[M]>> {
  return (transport().call(method, args) as Promise<ReturnType<AutomationMethods[M]>>).catch((err: unknown) => {
    notifySessionError(err)
    throw err
  })
}

export const automationsApi = {
  Automations: async () => (await call('Automations')) ?? [],
  CreateAutomation: (d: AutomationDraft) => call('CreateAutomation', d),
  UpdateAutomation: (id: number, version: number, d: AutomationDraft) => call('UpdateAutomation', id, version, d),
  DeleteAutomation: (id: number) => call('DeleteAutomation', id),
  ApproveAutomation: (id: number, version: number) => call('ApproveAutomation', id, version),
  ActivateAutomation: (id: number) => call('ActivateAutomation', id),
  PauseAutomation: (id: number) => call('PauseAutomation', id),
  PreviewAutomation: (id: number) => call('PreviewAutomation', id),
  PreviewAutomationDraft: (d: AutomationDraft) => call('PreviewAutomationDraft', d),
  AutomationStats: (id: number) => call('AutomationStats', id),
}

/** Error codes of automations, translated under automations.errors. */
export const AUTOMATION_ERRORS = [
  'automationInvalid',
  'automationState',
  'automationOwnApproval',
  'automationNotApproved',
  'automationStale',
  'segmentInvalid',
  'campaignInvalid',
] as const

/** The catalog key of an automation error code, or null for any other error. */
export function automationErrorKey(err: unknown): string | null {
  const bare = toErrorCode(err).replace(/^errors\./, '')
  return (AUTOMATION_ERRORS as readonly string[]).includes(bare) ? `automations.errors.${bare}` : null
}
