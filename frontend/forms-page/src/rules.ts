// The form page's rules, apart from the DOM so node tests them
// (frontend/tests/unit/formspage-rules.test.ts): what each answer must be,
// which questions and sections are shown for the answers so far, and how
// an answer reads on the confirmation step. The desktop applies the same
// rules to what arrives (internal/forms rules.go, intake.go, postal.go).
import { parseDate, wareki } from '../../src/utils/wareki'

export type Condition = { question: string; values: string[] }

export type Question = {
  id: string
  type: 'text' | 'longtext' | 'number' | 'date' | 'choice' | 'multi' | 'email' | 'phone' | 'consent' | 'section' | 'birthdate' | 'postal'
  label: string
  help?: string
  required?: boolean
  choices?: string[]
  min?: number
  max?: number
  maxLen?: number
  consent?: string
  prefill?: boolean // a link to one customer may carry its value (prefill.ts)
  showIf?: Condition
}

// A postal answer: code (7 digits), pref, city, town, building.
export type Address = { code: string; pref: string; city: string; town: string; building: string }
export type Answer = string | string[] | Address

const isAddress = (v: Answer): v is Address => typeof v === 'object' && !Array.isArray(v)

/** A postal code as typed (１００－０００１, 100 0001) as 7 digits, or the input. */
export function postalDigits(s: string): string {
  const d = s.normalize('NFKC').replace(/[-‐ー－\s〒]/g, '')
  return /^\d{7}$/.test(d) ? d : s.trim()
}

function checkAddress(q: Question, a: Address): string {
  const code = postalDigits(a.code)
  const any = [a.code, a.pref, a.city, a.town, a.building].some((x) => x.trim() !== '')
  if (!any) return q.required ? '郵便番号と住所を入力してください。' : ''
  if (!/^\d{7}$/.test(code)) return '郵便番号を7桁の数字で入力してください（例: 100-0001）。'
  if (!a.pref) return '都道府県を選んでください。'
  if (!a.city.trim() || !a.town.trim()) return '市区町村と町名・番地を入力してください。'
  return ''
}

function checkBirth(s: string, today: string): string {
  const iso = parseDate(s)
  if (!iso) return '生年月日を「1985年4月1日」や「昭和60年4月1日」のように入力してください。'
  if (iso < '1900-01-01' || iso > today) return '生年月日を確かめてください（この日付は受け付けられません）。'
  return ''
}

function todayISO(): string {
  const d = new Date()
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

const MAX_TEXT = 5000
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE = /^0\d{9,10}$/

// check returns what to fix in an answer ('' when it is right): one
// message per field, naming what to do.
export function check(q: Question, v: Answer, today = todayISO()): string {
  if (isAddress(v)) return checkAddress(q, v)
  const empty = Array.isArray(v) ? v.length === 0 : v.trim() === ''
  if (empty) {
    if (!q.required) return ''
    if (q.type === 'consent') return '内容をご確認のうえ、同意するにチェックを入れてください。'
    if (q.type === 'choice' || q.type === 'multi') return '選択してください。'
    return '入力してください。'
  }
  if (Array.isArray(v)) return ''
  const s = v.trim()
  switch (q.type) {
    case 'text':
    case 'longtext': {
      const max = q.maxLen || MAX_TEXT
      return [...s].length > max ? `${max}文字以内で入力してください。` : ''
    }
    case 'email':
      return EMAIL.test(s) ? '' : 'メールアドレスの形（例: name@example.jp）で入力してください。'
    case 'phone':
      return PHONE.test(s.replace(/[-‐ー－\s()（）]/g, '')) ? '' : '電話番号を0から始まる10桁か11桁の数字で入力してください。'
    case 'number': {
      const n = Number(s)
      if (!Number.isFinite(n)) return '数字で入力してください。'
      if (q.min !== undefined && n < q.min) return `${q.min}以上の数を入力してください。`
      if (q.max !== undefined && n > q.max) return `${q.max}以下の数を入力してください。`
      return ''
    }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)) ? '' : '日付を選んでください。'
    case 'birthdate':
      return checkBirth(s, today)
  }
  return ''
}

function chosen(a: Answer | undefined, values: string[]): boolean {
  if (a === undefined || isAddress(a)) return false
  return Array.isArray(a) ? a.some((x) => values.includes(x)) : values.includes(a)
}

// visible says, per question, whether it is shown for these answers: a
// question in a hidden section is hidden; a question or section with a
// condition is shown when the earlier question it names is shown and its
// answer is (or, for multi-choice, includes) one of the values.
export function visible(qs: Question[], answers: Record<string, Answer>): boolean[] {
  const vis: boolean[] = []
  const at = new Map<string, number>()
  let section = -1
  qs.forEach((q, i) => {
    let v = true
    if (q.type === 'section') section = i
    else if (section >= 0 && !vis[section]) v = false
    const c = q.showIf
    if (v && c) {
      const j = at.get(c.question)
      v = j !== undefined && !!vis[j] && chosen(answers[c.question], c.values)
    }
    vis[i] = v
    if (!at.has(q.id)) at.set(q.id, i)
  })
  return vis
}

// shown is an answer as the confirmation step reads it.
export function shown(q: Question, v: Answer): string {
  if (isAddress(v)) {
    const code = postalDigits(v.code)
    if (!code) return '（未回答）'
    return `〒${code.slice(0, 3)}-${code.slice(3)} ${v.pref}${v.city.trim()}${v.town.trim()}${v.building.trim() ? ` ${v.building.trim()}` : ''}`
  }
  if (Array.isArray(v)) return v.length ? v.join('、') : '（未回答）'
  const s = v.trim()
  if (s === '') return '（未回答）'
  if (q.type === 'consent') return '同意する'
  if (q.type === 'birthdate') {
    const iso = parseDate(s)
    if (iso) return `${Number(iso.slice(0, 4))}年${Number(iso.slice(5, 7))}月${Number(iso.slice(8))}日（${wareki(iso)}）`
  }
  return s
}

// answersToSend keeps the shown questions' answers (trimmed): a hidden
// question's answer stays typed in the page, in case the customer goes
// back, but is never sent.
export function answersToSend(qs: Question[], read: Record<string, Answer>): Record<string, Answer> {
  const vis = visible(qs, read)
  const out: Record<string, Answer> = {}
  qs.forEach((q, i) => {
    if (!vis[i] || q.type === 'section') return
    const v = read[q.id] ?? ''
    if (isAddress(v)) {
      const a = { code: postalDigits(v.code), pref: v.pref, city: v.city.trim(), town: v.town.trim(), building: v.building.trim() }
      out[q.id] = a.code || a.pref || a.city || a.town || a.building ? a : ''
    } else if (Array.isArray(v)) out[q.id] = v
    else if (q.type === 'birthdate') out[q.id] = parseDate(v) ?? v.trim()
    else out[q.id] = v.trim()
  })
  return out
}
