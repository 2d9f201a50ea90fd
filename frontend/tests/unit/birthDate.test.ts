import { describe, expect, it } from 'vitest'
import { ageOn, formatBirthDate, parseDate, wareki } from '../../src/utils/birthDate'

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

describe('parseDate', () => {
  it('reads 西暦 as people write it', () => {
    for (const s of ['1985-04-01', '1985/4/1', '1985.4.1', '1985年4月1日', '１９８５年４月１日', ' 1985 / 04 / 01 ']) {
      expect(parseDate(s), s).toBe('1985-04-01')
    }
  })
  it('reads 和暦 with 元年 and era letters, within the era only', () => {
    expect(parseDate('昭和60年4月1日')).toBe('1985-04-01')
    expect(parseDate('S60.4.1')).toBe('1985-04-01')
    expect(parseDate('ｓ６０／４／１')).toBe('1985-04-01')
    expect(parseDate('平成元年1月8日')).toBe('1989-01-08')
    expect(parseDate('H1.1.8')).toBe('1989-01-08')
    expect(parseDate('令和元年5月1日')).toBe('2019-05-01')
    expect(parseDate('平成31年4月30日')).toBe('2019-04-30')
    expect(parseDate('昭和64年1月7日')).toBe('1989-01-07')
    expect(parseDate('昭和64年1月8日')).toBeNull() // already 平成
    expect(parseDate('平成元年1月7日')).toBeNull() // still 昭和
    expect(parseDate('平成32年1月1日')).toBeNull()
    expect(parseDate('令和元年4月30日')).toBeNull()
  })
  it('refuses what is not a date', () => {
    for (const s of ['', '1985-02-30', '60/4/1', '元年4月1日', '昭和年4月1日', '1985-13-01', '明日']) {
      expect(parseDate(s), s).toBeNull()
    }
  })
  it('writes 和暦 of a date', () => {
    expect(wareki('1985-04-01')).toBe('昭和60年4月1日')
    expect(wareki('2019-05-01')).toBe('令和元年5月1日')
    expect(wareki('1800-01-01')).toBe('')
  })
})
