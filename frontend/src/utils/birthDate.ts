import type { Locale } from '../i18n'
import { ERAS, wareki } from './wareki'

export { parseDate, wareki } from './wareki'

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/

/** Whole years between the birth date and today (both YYYY-MM-DD). */
export function ageOn(birth: string, today: string): number | null {
  const b = ISO.exec(birth)
  const d = ISO.exec(today)
  if (!b || !d) return null
  let age = Number(d[1]) - Number(b[1])
  // Not yet had this year's birthday (29 February counts from 1 March).
  if (`${d[2]}${d[3]}` < `${b[2]}${b[3]}`) age--
  return age >= 0 ? age : null
}

/** Today as YYYY-MM-DD in local time. */
export function localDate(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`
}

/**
 * A birth date for display: 昭和55年4月1日（46歳） in Japanese,
 * "1 Apr 1980 (Showa 55, age 46)" in English. A value that is not a
 * YYYY-MM-DD date is shown as stored.
 */
export function formatBirthDate(birth: string, today: string, locale: Locale): string {
  const m = ISO.exec(birth)
  if (!m) return birth
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const era = ERAS.find((e) => birth >= e.start)
  const age = ageOn(birth, today)
  if (locale === 'en') {
    const month = new Date(Date.UTC(y, mo - 1, d)).toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' })
    const parts = [era ? `${era.nameEn} ${y - Number(era.start.slice(0, 4)) + 1}` : '', age !== null ? `age ${age}` : ''].filter(Boolean)
    return `${d} ${month} ${y}${parts.length ? ` (${parts.join(', ')})` : ''}`
  }
  const text = wareki(birth) || `${y}年${mo}月${d}日`
  return age !== null ? `${text}（${age}歳）` : text
}
