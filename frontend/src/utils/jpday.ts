// Days and times of consultation booking, always in Japan time (the branch's
// calendar), whatever the PC's zone: a day is "2026-12-07", a time unix ms.

const JST_MS = 9 * 60 * 60 * 1000
export const DAY_MS = 24 * 60 * 60 * 1000

/** The Japanese calendar day ("2026-12-07") ms falls on. */
export function dayKey(ms: number): string {
  return new Date(ms + JST_MS).toISOString().slice(0, 10)
}

/** 00:00 JST of a day, unix ms. */
export function dayStart(key: string): number {
  return Date.parse(`${key}T00:00:00+09:00`)
}

/** The day n days after key. */
export function addDays(key: string, n: number): string {
  return dayKey(dayStart(key) + n * DAY_MS + 12 * 60 * 60 * 1000)
}

/** 0 = Sunday. */
export function weekday(key: string): number {
  return new Date(dayStart(key) + JST_MS).getUTCDay()
}

/** The Monday of key's week. */
export function mondayOf(key: string): string {
  return addDays(key, -((weekday(key) + 6) % 7))
}

/** Minutes since 00:00 JST. */
export function minuteOfDay(ms: number): number {
  const d = new Date(ms + JST_MS)
  return d.getUTCHours() * 60 + d.getUTCMinutes()
}

/** "10:30" in JST. */
export function clockText(ms: number): string {
  const m = minuteOfDay(ms)
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

/** 「12月7日(月)」 or "Mon, Dec 7": weekdays is the catalog's comma list. */
export function dayText(key: string, locale: string, weekdays: string): string {
  const [, m, d] = key.split('-').map(Number)
  const wd = weekdays.split(',')[weekday(key)] ?? ''
  if (locale === 'ja') return `${m}月${d}日(${wd})`
  const month = new Date(dayStart(key) + JST_MS).toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })
  return `${wd}, ${month} ${d}`
}

/** 「12月7日(月) 10:00〜10:30」. */
export function spanText(start: number, end: number, locale: string, weekdays: string): string {
  return `${dayText(dayKey(start), locale, weekdays)} ${clockText(start)}〜${clockText(end)}`
}
