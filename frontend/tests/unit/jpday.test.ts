import { describe, expect, it } from 'vitest'
import { addDays, clockText, dayKey, dayStart, dayText, minuteOfDay, mondayOf, spanText, weekday } from '../../src/utils/jpday'

// Booking's days are Japan's whatever the PC's zone: 2026-12-06T23:30Z is
// already Monday 7 December 08:30 in Japan.
describe('jpday', () => {
  const t = Date.parse('2026-12-06T23:30:00Z')
  it('reads the Japanese day, time and weekday', () => {
    expect(dayKey(t)).toBe('2026-12-07')
    expect(weekday('2026-12-07')).toBe(1)
    expect(minuteOfDay(t)).toBe(8 * 60 + 30)
    expect(clockText(t)).toBe('08:30')
    expect(dayStart('2026-12-07')).toBe(Date.parse('2026-12-06T15:00:00Z'))
  })
  it('steps days and weeks across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2027-03-01', -1)).toBe('2027-02-28')
    expect(mondayOf('2026-12-13')).toBe('2026-12-07') // a Sunday: the week that began on Monday
    expect(mondayOf('2026-12-07')).toBe('2026-12-07')
    expect(mondayOf('2027-01-02')).toBe('2026-12-28')
  })
  it('writes 12月7日(月) and Mon, Dec 7', () => {
    expect(dayText('2026-12-07', 'ja', '日,月,火,水,木,金,土')).toBe('12月7日(月)')
    expect(dayText('2026-12-07', 'en', 'Sun,Mon,Tue,Wed,Thu,Fri,Sat')).toBe('Mon, Dec 7')
    expect(spanText(t, t + 30 * 60_000, 'ja', '日,月,火,水,木,金,土')).toBe('12月7日(月) 08:30〜09:00')
  })
})
