// The web form page the relay serves at /f/TENANT/FORM (issue 21). It runs
// inside LINE as a LIFF app: it reads the form's definition, shows it,
// checks the answers (showing sections and questions as earlier answers
// call for them), shows them for confirmation, gets the customer's ID
// token from LIFF, seals
// {answers, ID token, form, submission ID} to the branch's key in the phone
// and posts the box; the relay only ever holds ciphertext. Outside LINE it
// explains how to open it there. Vanilla TypeScript: small for slow phones.
import { sealAnonymous } from './seal'
import { fragmentKey, idTokenSub, openPrefill } from './prefill'
import { answersToSend, check, postalDigits, shown, visible, type Address, type Answer, type Question } from './rules'
import { parseDate, wareki } from '../../src/utils/wareki'

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

// --- rendering ---

// fill puts a prefilled value in (false: not a value this field takes).
type Field = { q: Question; read: () => Answer; error: HTMLElement; focus: HTMLElement; box: HTMLElement; fill?: (v: unknown) => boolean }

function field(q: Question, i: number): Field {
  const id = `q${i}`
  if (q.type === 'section') {
    // A section's title and text; it is "answered" by nobody.
    const box = el('div', { class: 'sec' }, el('h2', {}, q.label))
    if (q.help) box.append(el('p', { class: 'help' }, q.help))
    return { q, read: () => '', error: el('p'), focus: box, box }
  }
  const errID = `${id}-err`
  const helpID = `${id}-help`
  const error = el('p', { id: errID, class: 'err', role: 'alert' })
  const described = [q.help ? helpID : '', errID].filter(Boolean).join(' ')
  const req = q.required ? el('span', { class: 'req' }, '必須') : el('span', { class: 'opt' }, '任意')
  const help = q.help ? el('p', { id: helpID, class: 'help' }, q.help) : null
  const box = el('div', { class: 'q' })
  let read: () => string | string[]
  let focus: HTMLElement
  if (q.type === 'postal') {
    const fs = el('fieldset', { 'aria-describedby': described })
    fs.append(el('legend', {}, q.label, ' ', req))
    if (help) fs.append(help)
    const sub = (name: string, label: string, input: HTMLInputElement | HTMLSelectElement) => {
      input.id = `${id}-${name}`
      fs.append(el('label', { for: input.id, class: 'sub' }, label), input)
      return input
    }
    const code = sub('code', '郵便番号', el('input', { type: 'text', inputmode: 'numeric', autocomplete: 'postal-code', maxlength: '8', placeholder: '例: 100-0001' })) as HTMLInputElement
    const looked = el('p', { class: 'help', 'aria-live': 'polite' })
    fs.append(looked)
    const pref = sub('pref', '都道府県', el('select', { autocomplete: 'address-level1' }, el('option', { value: '' }, '選んでください'), ...PREFS.map((p) => el('option', { value: p }, p)))) as HTMLSelectElement
    const city = sub('city', '市区町村', el('input', { type: 'text', autocomplete: 'address-level2' })) as HTMLInputElement
    const town = sub('town', '町名・番地', el('input', { type: 'text', autocomplete: 'address-line1' })) as HTMLInputElement
    const building = sub('building', '建物名・部屋番号（任意）', el('input', { type: 'text', autocomplete: 'address-line2' })) as HTMLInputElement
    // The address is looked up when the seventh digit is typed; whatever
    // it fills stays editable, and a failed lookup only says so.
    let filledTown = ''
    code.addEventListener('input', async () => {
      const digits = postalDigits(code.value)
      if (!/^\d{7}$/.test(digits)) return
      const found = await lookup(digits)
      if (postalDigits(code.value) !== digits) return // typed on meanwhile
      if (found === null) {
        looked.textContent = '住所を自動で入力できませんでした。そのまま入力してください。'
        return
      }
      if (found.length === 0) {
        looked.textContent = 'この郵便番号の住所が見つかりませんでした。番号を確かめるか、住所をそのまま入力してください。'
        return
      }
      const [p, c] = found[0] as [string, string, string]
      pref.value = p
      city.value = c
      const towns = new Set(found.map((f) => f[2]))
      const t = towns.size === 1 ? (found[0] as [string, string, string])[2] : ''
      if (town.value === '' || town.value === filledTown) town.value = t
      filledTown = t
      looked.textContent = '住所を入力しました。番地などを続けて入力してください。'
      fs.dispatchEvent(new Event('change', { bubbles: true }))
    })
    fs.append(error)
    const box = el('div', { class: 'q' }, fs)
    const read = (): Address => ({ code: code.value, pref: pref.value, city: city.value, town: town.value, building: building.value })
    const fill = (v: unknown) => {
      if (!v || typeof v !== 'object') return false
      const a = v as Record<string, unknown>
      const str = (x: unknown) => (typeof x === 'string' ? x : '')
      code.value = str(a.code)
      pref.value = PREFS.includes(str(a.pref)) ? str(a.pref) : ''
      city.value = str(a.city)
      town.value = str(a.town)
      building.value = str(a.building)
      return true
    }
    return { q, read, error, focus: code, box, fill }
  }
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
      const type = { text: 'text', number: 'text', date: 'date', email: 'email', phone: 'tel' }[q.type as string] || 'text'
      inp = el('input', { ...attrs, type })
      if (q.type === 'birthdate') {
        inp.setAttribute('autocomplete', 'bday')
        inp.setAttribute('placeholder', '例: 1985年4月1日、昭和60年4月1日')
      }
      if (q.type === 'number') inp.setAttribute('inputmode', 'decimal')
      if (q.type === 'email') inp.setAttribute('autocomplete', 'email')
      if (q.type === 'phone') inp.setAttribute('autocomplete', 'tel')
    }
    box.append(el('label', { for: id }, q.label, ' ', req))
    if (help) box.append(help)
    box.append(inp)
    if (q.type === 'birthdate') {
      // How the date was read, 西暦 and 和暦, as soon as it is a date.
      const reading = el('p', { class: 'help', 'aria-live': 'polite' })
      inp.addEventListener('input', () => {
        const iso = parseDate(inp.value)
        reading.textContent = iso ? `${Number(iso.slice(0, 4))}年${Number(iso.slice(5, 7))}月${Number(iso.slice(8))}日（${wareki(iso)}）として受け付けます。` : ''
      })
      box.append(reading)
    }
    box.append(error)
    focus = inp
    read = () => inp.value
    const fill = (v: unknown) => {
      if (typeof v !== 'string') return false
      inp.value = v
      inp.dispatchEvent(new Event('input', { bubbles: true })) // the birth date's reading
      return true
    }
    return { q, read, error, focus, box, fill }
  }
  return { q, read, error, focus, box }
}

const PREFS = ['北海道', '青森県', '岩手県', '宮城県', '秋田県', '山形県', '福島県', '茨城県', '栃木県', '群馬県', '埼玉県', '千葉県', '東京都', '神奈川県',
  '新潟県', '富山県', '石川県', '福井県', '山梨県', '長野県', '岐阜県', '静岡県', '愛知県', '三重県', '滋賀県', '京都府', '大阪府', '兵庫県', '奈良県', '和歌山県',
  '鳥取県', '島根県', '岡山県', '広島県', '山口県', '徳島県', '香川県', '愛媛県', '高知県', '福岡県', '佐賀県', '長崎県', '熊本県', '大分県', '宮崎県', '鹿児島県', '沖縄県']

// The relay's postal-code table, fetched by the first three digits (a few
// KB) and kept for the page's life. null: the lookup failed.
const postalChunks = new Map<string, Record<string, [string, string, string][]>>()
async function lookup(code: string): Promise<[string, string, string][] | null> {
  const prefix = code.slice(0, 3)
  let chunk = postalChunks.get(prefix)
  if (!chunk) {
    try {
      const res = await fetch(`/postal/${prefix}`)
      if (res.status === 404) return []
      if (!res.ok) return null
      chunk = (await res.json()) as Record<string, [string, string, string][]>
      postalChunks.set(prefix, chunk)
    } catch {
      return null
    }
  }
  return chunk[code] ?? []
}

// Prefill is what a link sent to one customer carries: values (opened in
// this phone), or a note that they could not be used.
type Prefill = { values: Record<string, unknown> } | { failed: true } | null

function render(def: FormDef, liff: Liff, prefill: Prefill) {
  document.title = def.title
  const submitID = randomID() // one per page: a resend after an error is the same submission
  const fields = def.questions.map(field)
  const status = el('p', { class: 'status', role: 'status' })
  const next = el('button', { type: 'submit' }, '確認へ進む')
  const form = el('form', { novalidate: '' }, ...fields.map((f) => f.box), status, next)
  const confirm = el('div', { class: 'confirm', hidden: '' })
  const kids: Node[] = [el('h1', {}, def.title)]
  if (def.intro) kids.push(el('p', { class: 'intro' }, def.intro))
  if (prefill && 'failed' in prefill) {
    // Expired, unknown, or not this LINE user's: the empty form, calmly,
    // naming nobody.
    kids.push(el('p', { class: 'note', role: 'note' }, '登録済みの情報は表示できませんでした（リンクの有効期限が過ぎた場合など）。お手数ですが、ご記入ください。'))
  }
  kids.push(form, confirm)
  show(...kids)
  if (prefill && 'values' in prefill) {
    for (const f of fields) {
      if (!f.q.prefill || !f.fill || !(f.q.id in prefill.values) || !f.fill(prefill.values[f.q.id])) continue
      f.box.classList.add('prefilled')
      f.error.before(el('p', { class: 'pre' }, '登録済みの情報を入れてあります。違っていれば直してください。'))
    }
  }

  const readAll = () => {
    const out: Record<string, Answer> = {}
    for (const f of fields) out[f.q.id] = f.read()
    return out
  }
  // Sections and questions follow the answers given so far. A hidden
  // field keeps what was typed (the customer may change their mind) but
  // is neither checked nor sent.
  let vis: boolean[] = []
  const follow = () => {
    vis = visible(def.questions, readAll())
    fields.forEach((f, i) => {
      f.box.hidden = !vis[i]
      if (!vis[i]) mark(f, '')
    })
  }
  const mark = (f: Field, msg: string) => {
    f.error.textContent = msg ? `${f.q.label}: ${msg}` : ''
    f.box.classList.toggle('invalid', !!msg)
    if (f.q.type !== 'section') f.focus.setAttribute('aria-invalid', msg ? 'true' : 'false')
  }
  follow()

  // A field marked wrong is checked again as it changes, so its message
  // goes as soon as it is right (and only then).
  for (const f of fields) {
    const recheck = () => {
      follow()
      if (!f.box.classList.contains('invalid')) return
      mark(f, check(f.q, f.read()))
      if (!form.querySelector('.invalid')) status.textContent = ''
    }
    f.box.addEventListener('input', recheck)
    f.box.addEventListener('change', recheck)
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    follow()
    let first: Field | null = null
    let bad = 0
    fields.forEach((f, i) => {
      if (!vis[i] || f.q.type === 'section') return
      const msg = check(f.q, f.read())
      mark(f, msg)
      if (msg) {
        bad++
        first = first || f
      }
    })
    if (first) {
      status.textContent = `入力内容を確認してください（${bad}件）。`
      ;(first as Field).focus.focus()
      return
    }
    status.textContent = ''
    showConfirm()
  })

  // The confirmation step: every shown answer, then 「修正する」 (back to
  // the form as it was) or 「送信する」 (sealed and sent).
  const sendStatus = el('p', { class: 'status', role: 'status' })
  const send = el('button', { type: 'button' }, '送信する')
  const back = el('button', { type: 'button', class: 'secondary' }, '修正する')
  const heading = el('h2', { tabindex: '-1' }, '入力内容の確認')
  const showConfirm = () => {
    const answers = readAll()
    const list = el('dl', { class: 'review' })
    fields.forEach((f, i) => {
      if (!vis[i]) return
      if (f.q.type === 'section') list.append(el('div', { class: 'rsec' }, f.q.label))
      else list.append(el('dt', {}, f.q.label), el('dd', {}, shown(f.q, answers[f.q.id] ?? '')))
    })
    sendStatus.textContent = ''
    confirm.replaceChildren(heading, el('p', {}, 'この内容で送信します。よろしければ「送信する」を押してください。'), list, sendStatus, send, back)
    form.hidden = true
    confirm.hidden = false
    window.scrollTo(0, 0)
    heading.focus()
  }
  back.addEventListener('click', () => {
    confirm.hidden = true
    form.hidden = false
    window.scrollTo(0, 0)
    next.focus()
  })

  send.addEventListener('click', async () => {
    const idToken = liff.getIDToken()
    if (!idToken) {
      sendStatus.textContent = 'LINEの確認ができませんでした。画面を閉じて、トークのリンクからもう一度開いてください。'
      return
    }
    const answers = answersToSend(def.questions, readAll())
    const plain = new TextEncoder().encode(JSON.stringify({ formId: def.id, submitId: submitID, idToken, answers, sentAt: Date.now() }))
    const msg = new Uint8Array(plain.length + 1)
    msg[0] = FORM_VERSION
    msg.set(plain, 1)
    const sealed = sealAnonymous(msg, b64(def.boxKey))
    msg.fill(0)
    send.disabled = true
    back.disabled = true
    sendStatus.textContent = '送信しています…'
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
      sendStatus.textContent = res.status === 429 || res.status === 503
        ? '混み合っています。少し待ってから、もう一度「送信する」を押してください（入力内容はそのままです）。'
        : 'このフォームは現在受け付けていません。'
    } catch {
      sendStatus.textContent = '送信できませんでした。電波の良いところで、もう一度「送信する」を押してください（入力内容はそのままです）。'
    }
    send.disabled = false
    back.disabled = false
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
  render(def, liff, await readPrefill(def, liff))
}

// readPrefill reads the link's prefill after liff.init() (LINE restores the
// LIFF URL's query and fragment then), takes the ID and the key out of the
// address bar at once, and opens the values with the key bound to this
// LINE user. No ?p=: no prefill.
async function readPrefill(def: FormDef, liff: Liff): Promise<Prefill> {
  const id = new URLSearchParams(location.search).get('p')
  const key = fragmentKey(location.hash)
  if (id === null && key === null) return null
  history.replaceState(null, '', location.pathname)
  if (!id || !/^[A-Za-z0-9_-]{32}$/.test(id) || !key) return { failed: true }
  try {
    const res = await fetch(`${location.pathname.replace(/\/$/, '')}/p/${id}`, { cache: 'no-store' })
    if (!res.ok) return { failed: true }
    const values = openPrefill(new Uint8Array(await res.arrayBuffer()), key, idTokenSub(liff.getIDToken()), def.id)
    key.fill(0)
    return values ? { values } : { failed: true }
  } catch {
    return { failed: true }
  }
}

main()
