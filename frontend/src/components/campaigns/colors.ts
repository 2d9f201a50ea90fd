import type { Channel, SkipReason } from '../../api/campaigns'

/** One colour per channel in every chart and badge. */
export const CHANNEL_COLORS: Record<Channel, string> = {
  line: '#06c755',
  email: '#1f4e8c',
  sms: '#c97a00',
}

export const SKIP_COLORS: Record<SkipReason, string> = {
  no_consent: '#8e6bbf',
  blocked: '#b3261e',
  no_contact: '#7c8796',
  inactive: '#a0a8b4',
  duplicate: '#4a90a4',
}

export const SKIP_REASONS: SkipReason[] = ['no_consent', 'blocked', 'no_contact', 'inactive', 'duplicate']
