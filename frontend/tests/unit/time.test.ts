import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { calendarDaysBetween, formatClock, formatDay, formatRelative } from '../../src/utils/time'

const tJa = createAppI18n('ja').global.t
const tEn = createAppI18n('en').global.t

// All dates in local time, so the test holds in any time zone.
const now = new Date(2025, 10, 25, 15, 30, 0).getTime() // 2025-11-25 (Tue) 15:30
const at = (y: number, mo: number, d: number, h = 12, mi = 0, s = 0) => new Date(y, mo - 1, d, h, mi, s).getTime()

describe('formatRelative (ja)', () => {
  const rel = (ts: number) => formatRelative(ts, now, tJa, 'ja')
  it.each([
    [at(2025, 11, 25, 15, 29, 30), 'たった今'],
    [at(2025, 11, 25, 15, 31, 0), 'たった今'], // slightly in the future (clock skew)
    [at(2025, 11, 25, 15, 29, 0), '1分前'],
    [at(2025, 11, 25, 15, 5, 0), '25分前'],
    [at(2025, 11, 25, 14, 30, 0), '1時間前'],
    [at(2025, 11, 25, 0, 10, 0), '15時間前'],
    [at(2025, 11, 24, 23, 0, 0), '昨日'],
    [at(2025, 11, 24, 0, 1, 0), '昨日'],
    [at(2025, 11, 23, 18, 0, 0), '2日前'],
    [at(2025, 11, 19, 9, 0, 0), '6日前'],
    [at(2025, 11, 18, 9, 0, 0), '11月18日'],
    [at(2025, 1, 3, 9, 0, 0), '1月3日'],
    [at(2024, 12, 31, 9, 0, 0), '2024年12月31日'],
  ])('%s -> %s', (ts, want) => {
    expect(rel(ts)).toBe(want)
  })
  it('is empty for a missing time', () => {
    expect(rel(0)).toBe('')
  })
})

describe('formatRelative (en)', () => {
  const rel = (ts: number) => formatRelative(ts, now, tEn, 'en')
  it.each([
    [at(2025, 11, 25, 15, 29, 50), 'Just now'],
    [at(2025, 11, 25, 15, 25, 0), '5 min ago'],
    [at(2025, 11, 25, 12, 0, 0), '3 h ago'],
    [at(2025, 11, 24, 8, 0, 0), 'Yesterday'],
    [at(2025, 11, 22, 8, 0, 0), '3 days ago'],
    [at(2025, 11, 1, 8, 0, 0), 'Nov 1'],
    [at(2023, 7, 4, 8, 0, 0), 'Jul 4, 2023'],
  ])('%s -> %s', (ts, want) => {
    expect(rel(ts)).toBe(want)
  })
})

describe('day and clock labels', () => {
  it('labels days in the conversation', () => {
    expect(formatDay(at(2025, 11, 25, 9), now, tJa, 'ja')).toBe('今日')
    expect(formatDay(at(2025, 11, 24, 9), now, tJa, 'ja')).toBe('昨日')
    expect(formatDay(at(2025, 11, 20, 9), now, tJa, 'ja')).toBe('2025年11月20日(木)')
    expect(formatDay(at(2025, 11, 24, 9), now, tEn, 'en')).toBe('Yesterday')
    expect(formatDay(at(2025, 11, 20, 9), now, tEn, 'en')).toBe('Thu, Nov 20, 2025')
  })
  it('shows 24-hour clock times', () => {
    expect(formatClock(at(2025, 11, 25, 9, 5), 'ja')).toBe('09:05')
    expect(formatClock(at(2025, 11, 25, 21, 45), 'en')).toBe('21:45')
  })
  it('counts calendar days, not 24-hour periods', () => {
    expect(calendarDaysBetween(at(2025, 11, 24, 23, 59), at(2025, 11, 25, 0, 1))).toBe(1)
    expect(calendarDaysBetween(at(2025, 11, 25, 0, 1), at(2025, 11, 25, 23, 59))).toBe(0)
  })
})
