// The consultation booking page the relay serves at /b/TENANT (issue 21).
// It runs inside LINE as a LIFF app: it reads the free slots the branch
// published (no names: times, types, places left), lets the customer pick a
// day and a time, and asks the relay to hold the place with the request
// sealed to the branch's key in the phone ({kind, ID token, slot, note});
// the relay answers at once when the place was taken and the page shows
// the other free times. Opened from the LINE confirmation's link (the
// booking's random key and slot in the query: no name; the key acts only
// with the booking's own LINE ID token) it shows the booking with
// 「キャンセル」 and 「日時を変更」. Outside LINE it
// explains how to open it there. Vanilla TypeScript, like the form page.
import { sealAnonymous } from './seal'

type BookingType = { id: number; name: string; durationMin: number }
type Slot = { typeId: number; start: number; remaining: number }
type Avail = { branch: string; liffId: string; boxKey: string; types: BookingType[]; slots: Slot[] }
type Liff = {
  init(o: { liffId: string }): Promise<void>
  isInClient(): boolean
  getIDToken(): string | null
  closeWindow?(): void
}

const BOOKING_VERSION = 5 // the first byte of an opened request (wire.bookingVersion)
const MAX_NOTE = 400
const JST = 9 * 3600_000
const WEEK = ['日', '月', '火', '水', '木', '金', '土']

const app = document.getElementById('app') as HTMLElement
const base = location.pathname.replace(/\/$/, '')

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  for (const k of kids) e.append(k)
  return e
}

function button(label: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = el('button', { type: 'button', class: cls }, label)
  b.addEventListener('click', onClick)
  return b
}

// show replaces the view and moves focus to its heading, so a screen
// reader announces the new step.
function show(title: string, ...kids: Node[]) {
  const h = el('h1', { tabindex: '-1' }, title)
  app.replaceChildren(h, ...kids)
  document.title = title
  h.focus()
}

function message(title: string, ...lines: string[]) {
  show(title, ...lines.map((l) => el('p', {}, l)))
}

function b64(s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function b64enc(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i])
  return btoa(s)
}

function randomID(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

// Japan time without time-zone data: the phone may be set to any zone.
function jst(ms: number) {
  const d = new Date(ms + JST)
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), w: WEEK[d.getUTCDay()], hm: `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}` }
}

function dayKey(ms: number): string {
  const j = jst(ms)
  return `${j.y}-${j.m}-${j.d}`
}

function dayLabel(ms: number): string {
  const j = jst(ms)
  return `${j.m}月${j.d}日（${j.w}）`
}

function when(s: Slot, t: BookingType | undefined): string {
  const j = jst(s.start)
  const end = t ? `〜${jst(s.start + t.durationMin * 60_000).hm}` : ''
  return `${j.y}年${j.m}月${j.d}日（${j.w}）${j.hm}${end}`
}

function key(s: Slot): string {
  return `${s.typeId}-${s.start}`
}

function notInLine() {
  message('相談のご予約',
    'この予約ページはLINEアプリの中でお使いいただけます。',
    'お手数ですが、LINEのトーク画面に届いたリンク、またはメニューの「相談予約」をタップして開いてください。',
    'スマートフォンのブラウザで開いている場合は、LINEアプリのトークからもう一度開いてください。')
}

type Request = { kind: 'book' | 'cancel' | 'reschedule'; submitId: string; holdId?: string; typeId?: number; start?: number; note?: string; manage?: string }

class Page {
  avail: Avail
  liff: Liff
  // The booking the page manages (from the LINE link), if any.
  manage: { token: string; typeId: number; start: number } | null = null
  typeId = 0
  note = '' // kept across steps and failures: nothing typed is lost

  constructor(avail: Avail, liff: Liff) {
    this.avail = avail
    this.liff = liff
  }

  type(id: number): BookingType | undefined {
    return this.avail.types.find((t) => t.id === id)
  }

  free(typeId: number): Slot[] {
    return this.avail.slots.filter((s) => s.typeId === typeId && s.remaining > 0).sort((a, b) => a.start - b.start)
  }

  // send seals and posts one request; the same request object is sent
  // again on a retry (same submitId and holdId: held and stored once).
  async send(req: Request): Promise<{ status: number; slots?: Slot[] }> {
    const idToken = this.liff.getIDToken()
    if (!idToken) return { status: 401 }
    const plain = new TextEncoder().encode(JSON.stringify({ ...req, idToken, sentAt: Date.now() }))
    const msg = new Uint8Array(plain.length + 1)
    msg[0] = BOOKING_VERSION
    msg.set(plain, 1)
    const sealed = sealAnonymous(msg, b64(this.avail.boxKey))
    msg.fill(0)
    plain.fill(0)
    const hold = req.holdId !== undefined
    const body = JSON.stringify(hold ? { slot: `${req.typeId}-${req.start}`, holdId: req.holdId, sealed: b64enc(sealed) } : { sealed: b64enc(sealed) })
    const res = await fetch(`${base}/${hold ? 'hold' : 'request'}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
    if (res.status === 409) {
      const a = await res.json()
      return { status: 409, slots: a.slots || [] }
    }
    return { status: res.status }
  }

  start() {
    const m = /[?&]m=([A-Za-z0-9_-]{32})&t=(\d+)&s=(\d+)/.exec(location.search)
    if (m) {
      this.manage = { token: m[1], typeId: Number(m[2]), start: Number(m[3]) }
      this.manageView()
      return
    }
    if (this.avail.types.length === 1) {
      this.typeId = this.avail.types[0].id
      this.daysView()
      return
    }
    this.typesView()
  }

  typesView() {
    const list = el('div', { class: 'choices', role: 'list' })
    for (const t of this.avail.types) {
      const n = this.free(t.id).length
      const b = button(`${t.name}（${t.durationMin}分）`, () => { this.typeId = t.id; this.daysView() }, 'choice')
      if (n === 0) { b.disabled = true; b.append(el('span', { class: 'sub' }, '空きがありません')) }
      list.append(el('div', { role: 'listitem' }, b))
    }
    show('相談のご予約', el('p', {}, `${this.avail.branch || '支店'}でのご相談の種類を選んでください。`), list)
  }

  daysView(notice = '') {
    const t = this.type(this.typeId)
    const days = new Map<string, Slot[]>()
    for (const s of this.free(this.typeId)) {
      const k = dayKey(s.start)
      days.set(k, [...(days.get(k) || []), s])
    }
    const kids: Node[] = []
    if (notice) kids.push(el('p', { class: 'notice', role: 'alert' }, notice))
    kids.push(el('p', {}, `${t?.name || ''}（${t?.durationMin || ''}分）・${this.avail.branch}`))
    if (days.size === 0) {
      kids.push(el('p', {}, '申し訳ありません。現在、ご予約いただける日時がありません。'))
    } else {
      kids.push(el('h2', {}, '日にちを選んでください'))
      const list = el('div', { class: 'days', role: 'list' })
      for (const slots of days.values()) {
        list.append(el('div', { role: 'listitem' }, button(`${dayLabel(slots[0].start)}　空き${slots.length}枠`, () => this.timesView(slots[0].start), 'choice')))
      }
      kids.push(list)
    }
    if (this.avail.types.length > 1 && !this.manage) kids.push(button('相談の種類を選び直す', () => this.typesView(), 'secondary'))
    show(this.manage ? '変更先の日時' : '相談のご予約', ...kids)
  }

  timesView(day: number, notice = '') {
    const slots = this.free(this.typeId).filter((s) => dayKey(s.start) === dayKey(day))
    const t = this.type(this.typeId)
    const kids: Node[] = []
    if (notice) kids.push(el('p', { class: 'notice', role: 'alert' }, notice))
    kids.push(el('h2', {}, `${dayLabel(day)}の空いている時間`))
    const list = el('div', { class: 'times', role: 'list' })
    for (const s of slots) {
      const label = `${jst(s.start).hm}〜${jst(s.start + (t?.durationMin || 0) * 60_000).hm}`
      const b = button(label, () => this.confirmView(s), 'choice time')
      b.append(el('span', { class: 'sub' }, `残り${s.remaining}`))
      list.append(el('div', { role: 'listitem' }, b))
    }
    kids.push(list, button('日にちを選び直す', () => this.daysView(), 'secondary'))
    show(this.manage ? '変更先の日時' : '相談のご予約', ...kids)
  }

  confirmView(s: Slot) {
    const t = this.type(s.typeId)
    const summary = el('dl', { class: 'summary' },
      el('dt', {}, 'ご相談'), el('dd', {}, t?.name || ''),
      el('dt', {}, '日時'), el('dd', { class: 'when' }, when(s, t)),
      el('dt', {}, '場所'), el('dd', {}, this.avail.branch))
    const kids: Node[] = [el('p', {}, this.manage ? '次の日時に変更します。よろしければ「変更する」を押してください。' : '次の内容でご予約します。よろしければ「予約する」を押してください。'), summary]
    let noteBox: HTMLTextAreaElement | null = null
    const err = el('p', { class: 'err', id: 'note-err', 'aria-live': 'polite' })
    if (!this.manage) {
      noteBox = el('textarea', { id: 'note', rows: '3', maxlength: String(MAX_NOTE), 'aria-describedby': 'note-help note-err' })
      noteBox.value = this.note
      noteBox.addEventListener('input', () => { this.note = noteBox!.value; err.textContent = '' })
      kids.push(el('div', { class: 'q' },
        el('label', { for: 'note' }, 'ご相談内容', el('span', { class: 'opt' }, '任意')),
        el('p', { class: 'help', id: 'note-help' }, `担当者にお伝えしたいことがあればご記入ください（${MAX_NOTE}文字まで）。`),
        noteBox, err))
    }
    const status = el('p', { class: 'status', role: 'status' })
    const req: Request = this.manage
      ? { kind: 'reschedule', submitId: randomID(), holdId: randomID(), typeId: s.typeId, start: s.start, manage: this.manage.token }
      : { kind: 'book', submitId: randomID(), holdId: randomID(), typeId: s.typeId, start: s.start }
    const go = button(this.manage ? '変更する' : '予約する', async () => {
      if (noteBox && [...noteBox.value].length > MAX_NOTE) {
        err.textContent = `ご相談内容は${MAX_NOTE}文字以内にしてください。`
        noteBox.setAttribute('aria-invalid', 'true')
        noteBox.focus()
        return
      }
      if (!this.manage) req.note = this.note.trim()
      go.disabled = true
      status.textContent = '送信しています…'
      try {
        const res = await this.send(req)
        if (res.status === 202) {
          this.doneView(this.manage ? '日時の変更を受け付けました' : 'ご予約を受け付けました', s)
          return
        }
        if (res.status === 409) {
          // Taken by someone else a moment ago: say so at once and offer
          // the times still free.
          this.avail.slots = this.avail.slots.map((x) => (key(x) === key(s) ? { ...x, remaining: 0 } : x))
          for (const f of res.slots || []) {
            const i = this.avail.slots.findIndex((x) => key(x) === key(f))
            if (i >= 0) this.avail.slots[i] = f
          }
          this.takenView(s, res.slots || [])
          return
        }
        status.textContent = res.status === 401
          ? 'LINEの確認ができませんでした。画面を閉じて、トークのリンクからもう一度開いてください。'
          : res.status === 429 || res.status === 503
            ? '混み合っています。少し待ってから、もう一度押してください（入力内容はそのままです）。'
            : '現在ご予約を受け付けていません。時間をおいてもう一度お試しください。'
      } catch {
        status.textContent = '送信できませんでした。電波の良いところで、もう一度押してください（入力内容はそのままです）。'
      }
      go.disabled = false
    })
    kids.push(status, go, button('時間を選び直す', () => this.timesView(s.start), 'secondary'))
    show(this.manage ? '変更内容の確認' : 'ご予約内容の確認', ...kids)
  }

  takenView(s: Slot, others: Slot[]) {
    const t = this.type(s.typeId)
    const kids: Node[] = [el('p', { class: 'notice', role: 'alert' }, `申し訳ありません。${when(s, t)}は、先にご予約が入り満席になりました。`)]
    const sameDay = others.filter((o) => dayKey(o.start) === dayKey(s.start) && o.remaining > 0)
    const list = el('div', { class: 'times', role: 'list' })
    for (const o of (sameDay.length ? sameDay : others.filter((x) => x.remaining > 0)).slice(0, 8)) {
      const b = button(sameDay.length ? jst(o.start).hm : `${dayLabel(o.start)} ${jst(o.start).hm}`, () => this.confirmView(o), 'choice time')
      b.append(el('span', { class: 'sub' }, `残り${o.remaining}`))
      list.append(el('div', { role: 'listitem' }, b))
    }
    if (list.childElementCount) kids.push(el('h2', {}, sameDay.length ? '同じ日のほかの空いている時間' : 'ほかの空いている時間'), list)
    else kids.push(el('p', {}, '申し訳ありません。ほかに空いている時間がありません。'))
    kids.push(button('ほかの日を選ぶ', () => this.daysView(), 'secondary'))
    show('この時間は満席になりました', ...kids)
  }

  doneView(title: string, s: Slot | null) {
    const kids: Node[] = []
    if (s) kids.push(el('p', { class: 'when' }, when(s, this.type(s.typeId))))
    kids.push(el('p', {}, '確認のメッセージをLINEでお送りします。メッセージが届くまで少しお待ちください。'))
    if (this.liff.closeWindow) kids.push(button('LINEに戻る', () => this.liff.closeWindow?.()))
    show(title, ...kids)
  }

  manageView() {
    const m = this.manage!
    const t = this.type(m.typeId)
    const s = { typeId: m.typeId, start: m.start, remaining: 0 }
    const status = el('p', { class: 'status', role: 'status' })
    const kids: Node[] = [
      el('dl', { class: 'summary' }, el('dt', {}, 'ご相談'), el('dd', {}, t?.name || 'ご相談'), el('dt', {}, '日時'), el('dd', { class: 'when' }, when(s, t)), el('dt', {}, '場所'), el('dd', {}, this.avail.branch)),
      status,
    ]
    if (t) kids.push(button('日時を変更する', () => { this.typeId = m.typeId; this.daysView() }))
    kids.push(button('この予約をキャンセルする', () => this.cancelView(s), 'danger'))
    show('ご予約の確認', ...kids)
  }

  cancelView(s: Slot) {
    const status = el('p', { class: 'status', role: 'status' })
    const req: Request = { kind: 'cancel', submitId: randomID(), manage: this.manage!.token }
    const go = button('キャンセルする', async () => {
      go.disabled = true
      status.textContent = '送信しています…'
      try {
        const res = await this.send(req)
        if (res.status === 202) {
          this.doneView('キャンセルを受け付けました', s)
          return
        }
        status.textContent = res.status === 401
          ? 'LINEの確認ができませんでした。画面を閉じて、トークのリンクからもう一度開いてください。'
          : '混み合っています。少し待ってから、もう一度押してください。'
      } catch {
        status.textContent = '送信できませんでした。電波の良いところで、もう一度押してください。'
      }
      go.disabled = false
    }, 'danger')
    show('キャンセルの確認', el('p', {}, `${when(s, this.type(s.typeId))}のご予約をキャンセルします。よろしいですか？`),
      el('p', { class: 'help' }, 'キャンセルの受付期限を過ぎている場合は、LINEでお知らせします。'), status, go,
      button('キャンセルしない', () => this.manageView(), 'secondary'))
  }
}

async function main() {
  let avail: Avail
  try {
    const res = await fetch(`${base}/slots.json`, { cache: 'no-store' })
    if (!res.ok) throw new Error(String(res.status))
    avail = await res.json()
  } catch {
    message('相談のご予約', '予約ページを読み込めませんでした。', '電波の良いところで、もう一度開いてください。')
    return
  }
  const liff = (window as unknown as { liff?: Liff }).liff
  if (!liff) {
    notInLine()
    return
  }
  try {
    await liff.init({ liffId: avail.liffId })
  } catch {
    notInLine()
    return
  }
  if (!liff.isInClient()) {
    notInLine()
    return
  }
  new Page(avail, liff).start()
}

main()
