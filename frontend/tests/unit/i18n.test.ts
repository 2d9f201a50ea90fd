import { describe, expect, it } from 'vitest'
import ja from '../../src/i18n/ja'
import en from '../../src/i18n/en'
import { createAppI18n, initialLocale, LOCALE_STORAGE_KEY, setLocale, i18n } from '../../src/i18n'

function keys(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix]
  return Object.entries(obj).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('i18n catalogs', () => {
  it('ja and en have exactly the same keys', () => {
    const jaKeys = keys(ja).sort()
    const enKeys = keys(en).sort()
    expect(enKeys.filter((k) => !jaKeys.includes(k))).toEqual([])
    expect(jaKeys.filter((k) => !enKeys.includes(k))).toEqual([])
    expect(jaKeys.length).toBeGreaterThan(100)
  })

  it('every value is a non-empty string', () => {
    for (const cat of [ja, en]) {
      for (const k of keys(cat)) {
        const v = k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], cat)
        expect(typeof v, k).toBe('string')
        expect((v as string).trim(), k).not.toBe('')
      }
    }
  })

  it('every message compiles and interpolates in both languages', () => {
    const named = { n: 3, name: '佐藤', count: '12', max: '5,000', code: 'errors.x' }
    for (const locale of ['ja', 'en'] as const) {
      const { global } = createAppI18n(locale)
      for (const k of keys(ja)) {
        const out = global.t(k, named)
        expect(out, `${locale}:${k}`).not.toBe(k)
        expect(out, `${locale}:${k}`).not.toMatch(/[{}]/)
      }
    }
  })

  it('the sandbox banner says exactly what the product requires', () => {
    expect(ja.sandbox.banner).toBe('サンドボックスモード：LINE シミュレーターに接続しています。実際のお客さまには送信されません。')
  })

  it('defaults to Japanese and remembers the choice', () => {
    localStorage.removeItem(LOCALE_STORAGE_KEY)
    expect(initialLocale()).toBe('ja')
    localStorage.setItem(LOCALE_STORAGE_KEY, 'fr')
    expect(initialLocale()).toBe('ja')
    setLocale('en')
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('en')
    expect(initialLocale()).toBe('en')
    expect(i18n.global.locale.value).toBe('en')
    expect(document.documentElement.lang).toBe('en')
    setLocale('ja')
    expect(initialLocale()).toBe('ja')
  })
})
