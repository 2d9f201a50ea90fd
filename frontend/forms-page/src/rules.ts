// The form page's rules, apart from the DOM so node tests them
// (frontend/tests/unit/formspage-rules.test.ts): what each answer must be,
// which questions and sections are shown for the answers so far, and how
// an answer reads on the confirmation step. The desktop applies the same
// rules to what arrives (internal/forms rules.go, intake.go).

export type Condition = { question: string; values: string[] }

export type Question = {
  id: string
  type: 'text' | 'longtext' | 'number' | 'date' | 'choice' | 'multi' | 'email' | 'phone' | 'consent' | 'section'
  label: string
  help?: string
  required?: boolean
  choices?: string[]
  min?: number
  max?: number
  maxLen?: number
  consent?: string
  showIf?: Condition
}

export type Answer = string | string[]

const MAX_TEXT = 5000
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE = /^0\d{9,10}$/

// check returns what to fix in an answer ('' when it is right): one
// message per field, naming what to do.
export function check(q: Question, v: Answer): string {
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
  }
  return ''
}

function chosen(a: Answer | undefined, values: string[]): boolean {
  if (a === undefined) return false
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
  if (Array.isArray(v)) return v.length ? v.join('、') : '（未回答）'
  const s = v.trim()
  if (s === '') return '（未回答）'
  if (q.type === 'consent') return '同意する'
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
    out[q.id] = Array.isArray(v) ? v : v.trim()
  })
  return out
}
