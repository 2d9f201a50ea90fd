import { describe, expect, it } from 'vitest'
import { ageOn, formatBirthDate } from '../../src/utils/birthDate'

describe('formatBirthDate', () => {
  it('shows 和暦 and the age', () => {
    expect(formatBirthDate('1980-04-01', '2026-12-06', 'ja')).toBe('昭和55年4月1日（46歳）')
    expect(formatBirthDate('1980-04-01', '2026-03-31', 'ja')).toBe('昭和55年4月1日（45歳）')
  })
  it('switches era on the first day of the new one, with 元年', () => {
    expect(formatBirthDate('1989-01-07', '2026-12-06', 'ja')).toBe('昭和64年1月7日（37歳）')
    expect(formatBirthDate('1989-01-08', '2026-12-06', 'ja')).toBe('平成元年1月8日（37歳）')
    expect(formatBirthDate('2019-04-30', '2026-12-06', 'ja')).toBe('平成31年4月30日（7歳）')
    expect(formatBirthDate('2019-05-01', '2026-12-06', 'ja')).toBe('令和元年5月1日（7歳）')
    expect(formatBirthDate('1926-12-25', '2026-12-06', 'ja')).toBe('昭和元年12月25日（99歳）')
  })
  it('shows English with the era and age', () => {
    expect(formatBirthDate('1980-04-01', '2026-12-06', 'en')).toBe('1 Apr 1980 (Showa 55, age 46)')
  })
  it('leaves a value that is not a date as stored', () => {
    expect(formatBirthDate('不明', '2026-12-06', 'ja')).toBe('不明')
    expect(formatBirthDate('', '2026-12-06', 'ja')).toBe('')
  })
})

describe('ageOn', () => {
  it('counts a birthday on the day itself', () => {
    expect(ageOn('2000-12-06', '2026-12-06')).toBe(26)
    expect(ageOn('2000-12-07', '2026-12-06')).toBe(25)
    expect(ageOn('2030-01-01', '2026-12-06')).toBeNull()
  })
})
