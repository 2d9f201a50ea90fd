import type { Locale } from '../i18n'

type T = (key: string, named?: Record<string, unknown>) => string

const MINUTE = 60_000
const HOUR = 60 * MINUTE

function startOfDay(ms: number): number {
  const d = new Date(ms)
  d.setHours(0, 0, 0, 0)
  return d.getTime()
}

/** Whole calendar days between two instants in local time (b - a). */
export function calendarDaysBetween(a: number, b: number): number {
  // Round, not floor: DST days are 23 or 25 hours long.
  return Math.round((startOfDay(b) - startOfDay(a)) / (24 * HOUR))
}

const intlTag: Record<Locale, string> = { ja: 'ja-JP', en: 'en-US' }

/**
 * Short relative time for the conversation list, LINE style:
 * たった今 / 5分前 / 3時間前 / 昨日 / 3日前 / 11月20日 / 2023年11月20日.
 */
export function formatRelative(ts: number, now: number, t: T, locale: Locale): string {
  if (!ts) return ''
  const diff = now - ts
  if (diff < MINUTE) return t('time.justNow') // includes small clock skew into the future
  if (diff < HOUR) return t('time.minutesAgo', { n: Math.floor(diff / MINUTE) })
  const days = calendarDaysBetween(ts, now)
  if (days <= 0) return t('time.hoursAgo', { n: Math.max(1, Math.floor(diff / HOUR)) })
  if (days === 1) return t('time.yesterday')
  if (days < 7) return t('time.daysAgo', { n: days })
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear()
  return new Intl.DateTimeFormat(intlTag[locale], {
    year: sameYear ? undefined : 'numeric',
    month: locale === 'ja' ? 'long' : 'short',
    day: 'numeric',
  }).format(ts)
}

/** Clock time of a message: 14:05. */
export function formatClock(ts: number, locale: Locale): string {
  return new Intl.DateTimeFormat(intlTag[locale], { hour: '2-digit', minute: '2-digit', hour12: false }).format(ts)
}

/** Date separator in the conversation: 今日 / 昨日 / 2025年11月20日(木). */
export function formatDay(ts: number, now: number, t: T, locale: Locale): string {
  const days = calendarDaysBetween(ts, now)
  if (days === 0) return t('time.today')
  if (days === 1) return t('time.yesterday')
  return new Intl.DateTimeFormat(intlTag[locale], {
    year: 'numeric',
    month: locale === 'ja' ? 'long' : 'short',
    day: 'numeric',
    weekday: 'short',
  }).format(ts)
}

/** Full timestamp for tooltips. */
export function formatFull(ts: number, locale: Locale): string {
  return new Intl.DateTimeFormat(intlTag[locale], {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(ts)
}

export function sameDay(a: number, b: number): boolean {
  return calendarDaysBetween(a, b) === 0
}
