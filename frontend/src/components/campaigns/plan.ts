import { personName } from '../../utils/names'
import type { Campaign, CampaignPlan } from '../../api'

export interface QuotaState {
  key: string
  named: Record<string, number | string>
  level: 'ok' | 'warn' | 'error'
  /** false: the campaign does not fit this month's LINE quota. */
  fits: boolean
}

/** What the plan says about the LINE monthly quota (null: LINE is not used). */
export function quotaState(p: CampaignPlan): QuotaState | null {
  if (p.line === 0) return null
  const named = { n: p.quotaNeed, left: p.quotaLeft, max: p.quotaLimit }
  if (!p.quotaChecked) return { key: 'campaigns.quota.unknown', named, level: 'warn', fits: true }
  if (!p.quotaLimited) return { key: 'campaigns.quota.unlimited', named, level: 'ok', fits: true }
  if (p.quotaNeed > p.quotaLeft) return { key: 'campaigns.quota.short', named, level: 'error', fits: false }
  return { key: 'campaigns.quota.fits', named, level: 'ok', fits: true }
}

export type CampaignAction = 'edit' | 'approve' | 'schedule' | 'send' | 'cancel' | 'pause' | 'resume'

/** Which actions a campaign's status allows (the Go side checks again). */
export function allowedActions(status: Campaign['status']): CampaignAction[] {
  switch (status) {
    case 'draft':
      return ['edit', 'approve', 'cancel']
    case 'approved':
      return ['edit', 'schedule', 'send', 'cancel']
    case 'scheduled':
      return ['edit', 'schedule', 'send', 'cancel']
    case 'sending':
      return ['pause']
    case 'paused':
      return ['resume']
    default:
      return []
  }
}

/** Why the signed-in person cannot approve (an i18n key), or null if they can. */
export function approveBlocker(c: Pick<Campaign, 'author' | 'status'>, me: string, canApprove: boolean): string | null {
  if (c.status !== 'draft') return null
  if (c.author === me) return 'campaigns.approval.ownBlocked'
  if (!canApprove) return 'campaigns.approval.noPermission'
  return null
}

/** "staff:tanaka" → the staff member's display name (utils/names personName). */
export function actorName(actor: string): string {
  return personName(actor)
}
