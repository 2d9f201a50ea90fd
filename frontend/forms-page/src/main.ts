// The web form page the relay serves at /f/TENANT/FORM (issue 21). It runs
// inside LINE as a LIFF app: it reads the form's definition, shows it,
// checks the answers, gets the customer's ID token from LIFF, seals
// {answers, ID token, form, submission ID} to the branch's key in the phone
// and posts the box; the relay only ever holds ciphertext. Outside LINE it
// explains how to open it there. Vanilla TypeScript: small for slow phones.
import { sealAnonymous } from './seal'

type Question = {
  id: string
  type: 'text' | 'longtext' | 'number' | 'date' | 'choice' | 'multi' | 'email' | 'phone' | 'consent'
  label: string
  help?: string
  required?: boolean
  choices?: string[]
  min?: number
  max?: number
  maxLen?: number
  consent?: string
}

type FormDef = {
  id: string
  title: string
  intro?: string
  done: string
  questions: Question[]
  liffId: string
  boxKey: string // base64
}

// The LIFF SDK's part this page uses. In production it is LINE's SDK from
// LINE's CDN; in tests the relay points the script tag at the LINE
// simulator's stand-in, which implements exactly these (the one seam).
type Liff = {
  init(o: { liffId: string }): Promise<void>
  isInClient(): boolean
  getIDToken(): string | null
  closeWindow?(): void
}

const FORM_VERSION = 4 // the first byte of an opened submission (wire.formVersion)
const MAX_TEXT = 5000

const app = document.getElementById('app') as HTMLElement

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  for (const k of kids) e.append(k)
  return e
}

function show(...kids: Node[]) {
  app.replaceChildren(...kids)
}

function message(title: string, ...lines: string[]) {
  show(el('h1', {}, title), ...lines.map((l) => el('p', {}, l)))
  document.title = title
}

function notInLine(title: string) {
  message(title || 'フォーム',
    'このフォームはLINEアプリの中でお使いいただけます。',
    'お手数ですが、LINEのトーク画面に届いたリンクをタップして開いてください。',
    'スマートフォンのブラウザで開いている場合は、LINEアプリのトークからもう一度開いてください。')
}

function b64(s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function randomID(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

// --- validation: one message per field, naming what to do ---

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE = /^0\d{9,10}$/

function check(q: Question, v: string | string[]): string {
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

// --- rendering ---

type Field = { q: Question; read: () => string | string[]; error: HTMLElement; focus: HTMLElement; box: HTMLElement }

function field(q: Question, i: number): Field {
  const id = `q${i}`
  const errID = `${id}-err`
  const helpID = `${id}-help`
  const error = el('p', { id: errID, class: 'err', role: 'alert' })
  const described = [q.help ? helpID : '', errID].filter(Boolean).join(' ')
  const req = q.required ? el('span', { class: 'req' }, '必須') : el('span', { class: 'opt' }, '任意')
  const help = q.help ? el('p', { id: helpID, class: 'help' }, q.help) : null
  const box = el('div', { class: 'q' })
  let read: () => string | string[]
  let focus: HTMLElement
  if (q.type === 'choice' || q.type === 'multi' || q.type === 'consent') {
    const fs = el('fieldset', { 'aria-describedby': described })
    fs.append(el('legend', {}, q.label, ' ', req))
    if (help) fs.append(help)
    if (q.type === 'consent') {
      fs.append(el('div', { class: 'consent', tabindex: '0' }, q.consent || ''))
    }
    const opts = q.type === 'consent' ? ['同意する'] : q.choices || []
    const inputs = opts.map((c, j) => {
      const inp = el('input', { type: q.type === 'choice' ? 'radio' : 'checkbox', name: id, id: `${id}-${j}`, value: c })
      if (q.required && q.type !== 'multi') inp.setAttribute('aria-required', 'true')
      fs.append(el('label', { class: 'opt-row', for: `${id}-${j}` }, inp, c))
      return inp
    })
    focus = inputs[0]
    read = () => {
      const on = inputs.filter((x) => x.checked).map((x) => x.value)
      if (q.type === 'choice') return on[0] || ''
      if (q.type === 'consent') return on.length ? 'agreed' : ''
      return on
    }
    fs.append(error)
    box.append(fs)
  } else {
    const attrs: Record<string, string> = { id, name: id, 'aria-describedby': described }
    if (q.required) attrs['aria-required'] = 'true'
    let inp: HTMLInputElement | HTMLTextAreaElement
    if (q.type === 'longtext') {
      inp = el('textarea', { ...attrs, rows: '4' })
    } else {
      const type = { text: 'text', number: 'text', date: 'date', email: 'email', phone: 'tel' }[q.type] || 'text'
      inp = el('input', { ...attrs, type })
      if (q.type === 'number') inp.setAttribute('inputmode', 'decimal')
      if (q.type === 'email') inp.setAttribute('autocomplete', 'email')
      if (q.type === 'phone') inp.setAttribute('autocomplete', 'tel')
    }
    box.append(el('label', { for: id }, q.label, ' ', req))
    if (help) box.append(help)
    box.append(inp, error)
    focus = inp
    read = () => inp.value
  }
  return { q, read, error, focus, box }
}

function render(def: FormDef, liff: Liff) {
  document.title = def.title
  const submitID = randomID() // one per page: a resend after an error is the same submission
  const fields = def.questions.map(field)
  const status = el('p', { class: 'status', role: 'status' })
  const button = el('button', { type: 'submit' }, '送信する')
  const form = el('form', { novalidate: '' }, ...fields.map((f) => f.box), status, button)
  const kids: Node[] = [el('h1', {}, def.title)]
  if (def.intro) kids.push(el('p', { class: 'intro' }, def.intro))
  kids.push(form)
  show(...kids)

  // A field marked wrong is checked again as it changes, so its message
  // goes as soon as it is right (and only then).
  for (const f of fields) {
    const recheck = () => {
      if (!f.box.classList.contains('invalid')) return
      const msg = check(f.q, f.read())
      f.error.textContent = msg ? `${f.q.label}: ${msg}` : ''
      f.box.classList.toggle('invalid', !!msg)
      f.focus.setAttribute('aria-invalid', msg ? 'true' : 'false')
      if (!form.querySelector('.invalid')) status.textContent = ''
    }
    f.box.addEventListener('input', recheck)
    f.box.addEventListener('change', recheck)
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    let first: Field | null = null
    const answers: Record<string, string | string[]> = {}
    let bad = 0
    for (const f of fields) {
      const v = f.read()
      const msg = check(f.q, v)
      f.error.textContent = msg ? `${f.q.label}: ${msg}` : ''
      f.box.classList.toggle('invalid', !!msg)
      f.focus.setAttribute('aria-invalid', msg ? 'true' : 'false')
      if (msg) {
        bad++
        first = first || f
      }
      answers[f.q.id] = Array.isArray(v) ? v : v.trim()
    }
    if (first) {
      status.textContent = `入力内容を確認してください（${bad}件）。`
      first.focus.focus()
      return
    }
    const idToken = liff.getIDToken()
    if (!idToken) {
      status.textContent = 'LINEの確認ができませんでした。画面を閉じて、トークのリンクからもう一度開いてください。'
      return
    }
    const plain = new TextEncoder().encode(JSON.stringify({ formId: def.id, submitId: submitID, idToken, answers, sentAt: Date.now() }))
    const msg = new Uint8Array(plain.length + 1)
    msg[0] = FORM_VERSION
    msg.set(plain, 1)
    const sealed = sealAnonymous(msg, b64(def.boxKey))
    msg.fill(0)
    button.disabled = true
    status.textContent = '送信しています…'
    try {
      const res = await fetch(location.pathname, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: new Blob([sealed as Uint8Array<ArrayBuffer>]) })
      if (res.status === 202) {
        const done = el('p', { class: 'done' }, def.done || 'ご回答ありがとうございました。')
        const kids: Node[] = [el('h1', {}, def.title), done]
        if (liff.closeWindow) {
          const close = el('button', { type: 'button' }, 'LINEに戻る')
          close.addEventListener('click', () => liff.closeWindow?.())
          kids.push(close)
        }
        show(...kids)
        document.title = def.title
        return
      }
      status.textContent = res.status === 429 || res.status === 503
        ? '混み合っています。少し待ってから、もう一度「送信する」を押してください（入力内容はそのままです）。'
        : 'このフォームは現在受け付けていません。'
    } catch {
      status.textContent = '送信できませんでした。電波の良いところで、もう一度「送信する」を押してください（入力内容はそのままです）。'
    }
    button.disabled = false
  })
}

async function main() {
  let def: FormDef
  try {
    const res = await fetch(location.pathname.replace(/\/$/, '') + '/def.json', { cache: 'no-cache' })
    if (!res.ok) throw new Error(String(res.status))
    def = await res.json()
  } catch {
    message('フォーム', 'フォームを読み込めませんでした。', '電波の良いところで、もう一度開いてください。')
    return
  }
  const liff = (window as unknown as { liff?: Liff }).liff
  if (!liff) {
    notInLine(def.title)
    return
  }
  try {
    await liff.init({ liffId: def.liffId })
  } catch {
    notInLine(def.title)
    return
  }
  if (!liff.isInClient()) {
    notInLine(def.title)
    return
  }
  render(def, liff)
}

main()
