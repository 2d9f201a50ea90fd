import { createI18n } from 'vue-i18n'
import ja from './ja'
import en from './en'

export type Locale = 'ja' | 'en'
export const LOCALES: readonly Locale[] = ['ja', 'en']
export const LOCALE_STORAGE_KEY = 'tsunagu.locale'

export const messages = { ja, en }

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

/** Saved choice, else Japanese (the product is Japanese-first). */
export function initialLocale(): Locale {
  const saved = storage()?.getItem(LOCALE_STORAGE_KEY)
  return saved === 'en' || saved === 'ja' ? saved : 'ja'
}

export function createAppI18n(locale: Locale = initialLocale()) {
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'ja',
    messages,
    missingWarn: false,
    fallbackWarn: false,
  })
}

export const i18n = createAppI18n()

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  storage()?.setItem(LOCALE_STORAGE_KEY, locale)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}
