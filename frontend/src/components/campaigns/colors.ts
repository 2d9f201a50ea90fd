// Channels and skip reasons are plain strings on the wire (campaign.Channel
// and campaign.Skip* are string constants in Go); the charts know these.

export const CHANNELS = ['line', 'email', 'sms'] as const
export type Channel = (typeof CHANNELS)[number]

export const SKIP_REASONS = ['no_consent', 'blocked', 'no_contact', 'email_off', 'sms_off', 'placeholder', 'inactive', 'duplicate'] as const
export type SkipReason = (typeof SKIP_REASONS)[number]

/** One colour per channel in every chart and badge. */
export const CHANNEL_COLORS: Readonly<Record<Channel, string>> = {
  line: '#06c755',
  email: '#1f4e8c',
  sms: '#c97a00',
}

export const SKIP_COLORS: Readonly<Record<SkipReason, string>> = {
  no_consent: '#8e6bbf',
  blocked: '#b3261e',
  no_contact: '#7c8796',
  email_off: '#6f8fb8',
  sms_off: '#d9a441',
  placeholder: '#c0392b',
  inactive: '#a0a8b4',
  duplicate: '#4a90a4',
}

/** The colour of a channel the Go side names; grey for one these charts do not know. */
export function channelColor(channel: string): string {
  return (CHANNEL_COLORS as Record<string, string | undefined>)[channel] ?? '#7c8796'
}
