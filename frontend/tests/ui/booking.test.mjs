// Consultation booking's staff screens (issue 21) in the sandbox at
// 1366×768: a consultation type with wrong fields is refused with each
// field named by its label, then saved; the hours (a wrong time named by
// weekday) and a branch closed day (asked first) are set; from the inbox a
// consultation is booked on a linked customer's behalf, the confirmation
// showing the LINE message the customer receives, which then appears in
// the conversation; the week view shows it in its slot with the free
// places and today marked; it is moved, another booking is recorded as a
// no-show once its start has passed, a third is cancelled, each after a
// confirmation that says what it does. Audited. One English pass.
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/booking.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { useUiHarness, signInFirstAdmin, importCustomers, linkFriends, mustCall, choose, settle, advanceClock } from './harness.mjs'

const CSV =
  '顧客番号,氏名,フリガナ,携帯電話,店番,担当者\n' +
  '9001,山田 花子,ヤマダ ハナコ,09012345678,001,田中\n' +
  '9002,佐藤 健一,サトウ ケンイチ,09087654321,001,田中\n'
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-booking-', pickFile: { name: 'customers.csv', contents: CSV } })
const PASSWORD = 'correct horse battery 1'
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/
const DAY = 24 * 3600 * 1000

/** The JST day ("2026-12-07") of ms. */
const jstDay = (ms) => new Date(ms + 9 * 3600 * 1000).toISOString().slice(0, 10)
/** Weeks (Monday first) from the week of a to the week of b. */
function weeksBetween(a, b) {
  const mon = (d) => {
    const t = Date.parse(`${d}T00:00:00Z`)
    return t - ((new Date(t).getUTCDay() + 6) % 7) * DAY
  }
  return Math.round((mon(b) - mon(a)) / (7 * DAY))
}
/** 「12月7日(月)」 of a JST day. */
function jaDay(d) {
  const t = new Date(`${d}T00:00:00Z`)
  return `${t.getUTCMonth() + 1}月${t.getUTCDate()}日(${'日月火水木金土'[t.getUTCDay()]})`
}
const hhmm = (ms) => new Date(ms + 9 * 3600 * 1000).toISOString().slice(11, 16)

test('booking: settings with named errors, book from the inbox, week view, move, no-show, cancel', async () => {
  const { page, pageErrors } = ui
  await signInFirstAdmin(ui)
  await importCustomers(page)
  await linkFriends(page, [
    ['山田 花子', '9001'],
    ['佐藤 健一', '9002'],
  ])
  // The no-show below moves the app's clock up to a slot's start: the idle
  // lock must not come in between.
  await mustCall(page, 'SetIdleMinutes', 60)

  // --- settings: a wrong consultation type, every wrong field named ---
  await page.getByTestId('nav-booking').click()
  await page.getByTestId('booking-view').waitFor()
  await page.getByTestId('booking-tab-settings').click()
  const settings = page.getByTestId('booking-settings')
  await settings.getByText('まだ相談の種類がありません').waitFor()
  await settings.getByTestId('booking-type-new').click()
  const editor = settings.getByTestId('booking-type-editor')
  await editor.getByTestId('booking-type-save').click()
  const summary = editor.getByTestId('field-error-summary')
  await summary.waitFor()
  assert.match(await summary.innerText(), /名前/)
  await editor.getByTestId('booking-type-name').fill('資産運用相談')
  await editor.getByTestId('booking-type-duration').fill('7')
  await editor.getByTestId('booking-type-capacity').fill('0')
  await editor.getByTestId('booking-type-lead').fill('0')
  await editor.getByTestId('booking-type-save').click()
  await page.waitForFunction(() => /所要時間/.test(document.querySelector('[data-testid="booking-type-editor"] [data-testid="field-error-summary"]')?.textContent ?? ''))
  const named = await summary.innerText()
  assert.match(named, /所要時間（分・5 分単位）/)
  assert.match(named, /1 枠の定員（名）/)
  assert.match(named, /担当できる職員/)
  assert.doesNotMatch(named, /durationMin|capacity|staff/)
  await settle(page)
  await ui.shot('booking-type-errors-ja.png')

  // Fixed: saved and listed.
  await editor.getByTestId('booking-type-duration').fill('30')
  await editor.getByTestId('booking-type-capacity').fill('2')
  // A multiple select stays open after a pick: closed with Escape.
  await editor.getByTestId('booking-type-staff').click()
  await page.locator('.n-base-select-option:visible').filter({ hasText: '田中 支店長' }).first().click()
  await page.keyboard.press('Escape')
  await page.waitForFunction(() => ![...document.querySelectorAll('.n-base-select-menu')].some((e) => e.getClientRects().length > 0))
  await editor.getByTestId('booking-type-save').click()
  const row = settings.getByTestId('booking-type-row').filter({ hasText: '資産運用相談' })
  await row.waitFor()
  assert.match(await row.innerText(), /30 分・1 枠 2 名・担当 田中 支店長/)
  assert.match(await row.innerText(), /受付中/)
  const type = (await mustCall(page, 'BookingTypes')).find((x) => x.name === '資産運用相談')
  assert.equal(type.leadMin, 0)

  // --- hours: a wrong time is named by its weekday; then every day 0–24 ---
  const hours = settings.getByTestId('booking-hours')
  const dayRow = (w) => hours.locator(`[data-testid="booking-hours-day"][data-weekday="${w}"]`)
  await dayRow(1).getByTestId('booking-hours-add').click()
  await dayRow(1).getByTestId('booking-hours-close').fill('25:00')
  await hours.getByTestId('booking-hours-save').click()
  const hoursSummary = hours.getByTestId('field-error-summary')
  await hoursSummary.waitFor()
  assert.match(await hoursSummary.innerText(), /月曜日の時間帯 1: 終了/)
  await dayRow(1).getByTestId('booking-hours-open').fill('00:00')
  await dayRow(1).getByTestId('booking-hours-close').fill('24:00')
  for (const w of [2, 3, 4, 5, 6, 0]) {
    await dayRow(w).getByTestId('booking-hours-add').click()
    await dayRow(w).getByTestId('booking-hours-open').fill('00:00')
    await dayRow(w).getByTestId('booking-hours-close').fill('24:00')
  }
  await hours.getByTestId('booking-hours-save').click()
  await page.getByText('受付時間を保存しました。').waitFor()
  assert.equal((await mustCall(page, 'BookingHours')).length, 7)

  // --- closed days: holidays listed as closed; a branch day asked first ---
  const closed = settings.getByTestId('booking-closed')
  await closed.locator('[data-testid="booking-closed-row"][data-kind="holiday"]').first().waitFor()
  const off = jstDay(Date.now() + 40 * DAY)
  // The app's date input: typed and shown as yyyy/MM/dd (not the browser's mm/dd/yyyy).
  const dayPicker = closed.getByTestId('booking-closed-day')
  assert.equal(await dayPicker.locator('input[type="date"]').count(), 0)
  const dayInput = dayPicker.locator('input').first()
  assert.match((await dayInput.getAttribute('placeholder')) ?? '', /^例: \d{4}\/\d{2}\/\d{2}$/)
  await dayInput.fill(off.replaceAll('-', '/'))
  await closed.getByTestId('booking-closed-reason').fill('店舗改装')
  assert.equal(await dayInput.inputValue(), off.replaceAll('-', '/'))
  await closed.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('booking-closed-day-ja.png')
  await closed.getByTestId('booking-closed-add').click()
  const dialog = page.locator('.n-dialog')
  await dialog.waitFor()
  assert.match(await dialog.innerText(), new RegExp(`${jaDay(off).replace(/[()]/g, '\\$&')} を休業日にします。この日の相談枠は LINE の予約ページから消えます。`))
  await dialog.getByRole('button', { name: '休業日を追加' }).click()
  await closed.locator('[data-testid="booking-closed-row"][data-kind="branch"]').filter({ hasText: '店舗改装' }).waitFor()
  await settle(page)
  await ui.shot('booking-settings-ja.png')

  // --- the branch's details: what is typed survives a lock (a draft), then saved ---
  const branchCard = settings.getByTestId('booking-branch')
  await branchCard.getByTestId('booking-branch-name').fill('つなぐ銀行 本店')
  await branchCard.getByTestId('booking-branch-phone').fill('03-1234-5678')
  await page.getByTestId('lock-now').click()
  await page.getByTestId('lock-screen').waitFor()
  await page.getByTestId('unlock-password').fill(PASSWORD)
  await page.getByTestId('unlock-submit').click()
  await page.getByTestId('lock-screen').waitFor({ state: 'detached' })
  const valueIs = (id, v) => page.waitForFunction(([i, x]) => document.querySelector(`[data-testid="${i}"]`)?.value === x, [id, v])
  await valueIs('booking-branch-name', 'つなぐ銀行 本店')
  await valueIs('booking-branch-phone', '03-1234-5678')
  await branchCard.getByTestId('booking-branch-save').click()
  await page.getByText('店舗の情報を保存しました。').waitFor()
  assert.deepEqual(await mustCall(page, 'BookingSettings'), { branch: 'つなぐ銀行 本店', phone: '03-1234-5678' })

  // --- the day-before reminder: time and text; an unknown placeholder is named ---
  const rem = settings.getByTestId('booking-reminder')
  await valueIs('booking-reminder-at', '10:00')
  assert.equal(await rem.getByTestId('booking-reminder-text').inputValue(), '明日はご相談のご予約日です。ご来店をお待ちしております。')
  assert.equal(await rem.getByTestId('booking-reminder-on').getAttribute('aria-checked'), 'true')
  await rem.getByTestId('booking-reminder-at').fill('15:00')
  await rem.getByTestId('booking-reminder-text').fill('{名前}さま、明日 {日時} は{種類}のご予約日です。')
  await rem.getByTestId('booking-reminder-save').click()
  const remSummary = rem.getByTestId('field-error-summary')
  await remSummary.waitFor()
  assert.match(await remSummary.innerText(), /文面：使えない差し込み項目があります。/)
  await settle(page)
  await ui.shot('booking-reminder-error-ja.png')
  await rem.getByTestId('booking-reminder-text').fill('{支店}より: 明日 {日時} は{種類}のご予約日です。')
  await rem.getByTestId('booking-reminder-save').click()
  await page.getByText('前日のお知らせの設定を保存しました。').waitFor()
  assert.deepEqual(await mustCall(page, 'BookingReminder'), { on: true, at: '15:00', text: '{支店}より: 明日 {日時} は{種類}のご予約日です。' })
  assert.ok((await mustCall(page, 'AuditEntries', { action: 'booking.settings', limit: 10 })).entries.some((e) => e.target === 'booking_reminder'), 'the reminder settings audited')

  // --- book on behalf from the inbox ---
  // Slots starting at least 2 minutes from now (none can pass while the
  // test runs); 佐藤 健一's earliest one is booked at once, for the no-show.
  const slots = (await mustCall(page, 'BookingAvailability', type.id)).filter((s) => s.remaining > 0 && s.start > Date.now() + 120_000)
  assert.ok(slots.length > 6, 'free slots')
  const customers = (await mustCall(page, 'Customers', { query: '', limit: 10, offset: 0 })).customers
  const sato = customers.find((c) => c.customerNo === '9002')
  const early = await mustCall(page, 'BookOnBehalf', { typeId: type.id, start: slots[0].start, customerId: sato.id, note: '', staffId: 0 })
  await page.getByTestId('nav-inbox').click()
  await page.getByTestId('conversation-item').filter({ hasText: '山田 花子' }).first().click()
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('side-tab-customer').click()
  const side = pane.getByTestId('conversation-booking')
  await side.getByTestId('book-open').click()
  const book = page.getByTestId('book-dialog')
  await book.waitFor()
  await choose(page, book.getByTestId('book-type'), '資産運用相談')
  const pick = slots[2]
  const pickLabel = `${jaDay(jstDay(pick.start))} ${hhmm(pick.start)}〜${hhmm(pick.end)}`
  await choose(page, book.getByTestId('book-slot'), pickLabel)
  await book.getByTestId('book-note').fill('NISA の口座開設も相談したい')
  await book.getByTestId('book-review').click()
  const confirm = book.getByTestId('book-confirm')
  await confirm.waitFor()
  assert.match(await confirm.innerText(), new RegExp(`山田 花子 さまの「資産運用相談」を ${pickLabel.replace(/[()]/g, '\\$&')} で予約します。`))
  // The engine's own confirmation (as for a page booking): date with weekday, type, branch.
  const msg = await confirm.getByTestId('book-message').innerText()
  const d = new Date(pick.start + 9 * 3600 * 1000)
  const jaWhen = `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日（${'日月火水木金土'[d.getUTCDay()]}）${hhmm(pick.start)}〜${hhmm(pick.end)}`
  assert.equal(msg.split('\n').slice(0, 5).join('\n'), `ご予約を承りました。\n\n【資産運用相談】\n${jaWhen}\nつなぐ銀行 本店`)
  assert.equal(await confirm.getByTestId('book-not-on-line').count(), 0)
  await settle(page)
  await ui.shot('booking-book-confirm-ja.png')
  await confirm.getByTestId('book-submit').click()
  await book.waitFor({ state: 'detached' })
  await side.getByTestId('conversation-booking-item').filter({ hasText: pickLabel }).waitFor()
  // Sent by the engine through the outbox (not as a reply), shown in the conversation.
  await pane.locator('[data-testid="message-bubble"][data-direction="out"]').filter({ hasText: jaWhen }).filter({ hasText: 'ご予約を承りました。' }).waitFor()
  await settle(page)
  await ui.shot('booking-inbox-ja.png')
  const booked = (await mustCall(page, 'Bookings', pick.start, pick.end, 0)).find((b) => b.customerName === '山田 花子')
  assert.ok(booked, 'booked for 山田 花子')
  assert.equal(booked.note, 'NISA の口座開設も相談したい')

  // One more for 佐藤 健一, to cancel.
  const later = await mustCall(page, 'BookOnBehalf', { typeId: type.id, start: slots[4].start, customerId: sato.id, note: '', staffId: 0 })

  // --- the week view: in its slot, with name, type, staff; free places; today ---
  await page.getByTestId('nav-booking').click()
  await page.getByTestId('booking-tab-calendar').click()
  const cal = page.getByTestId('booking-calendar')
  await cal.getByTestId('booking-view-week').click()
  await cal.getByTestId('booking-today').click()
  const today = jstDay(Date.now())
  async function showWeekOf(ms) {
    await cal.getByTestId('booking-today').click()
    for (let i = weeksBetween(today, jstDay(ms)); i > 0; i--) await cal.getByTestId('booking-next').click()
    await cal.locator(`[data-testid="booking-day"][data-day="${jstDay(ms)}"]`).waitFor()
  }
  await showWeekOf(booked.start)
  const block = (id) => cal.locator(`[data-testid="booking-block"][data-id="${id}"]`)
  await block(booked.id).waitFor()
  const text = await block(booked.id).innerText()
  assert.match(text, new RegExp(`${hhmm(booked.start)} 山田 花子`))
  assert.match(text, /資産運用相談\n田中 支店長/)
  assert.equal(await block(booked.id).evaluate((el) => el.closest('[data-testid="booking-day"]').dataset.day), jstDay(booked.start))
  assert.ok((await cal.getByTestId('booking-free').count()) > 0, 'free places shown')
  if (weeksBetween(today, jstDay(booked.start)) === 0) {
    assert.match(await cal.locator(`[data-testid="booking-day-head"][data-day="${today}"]`).innerText(), /今日/)
  }
  assert.match(await cal.getByTestId('booking-range').innerText(), /^\d+月\d+日\([日月火水木金土]\) 〜 \d+月\d+日\([日月火水木金土]\)$/)
  await settle(page)
  await ui.shot('booking-week-ja.png')

  // --- move it: the side panel, a later slot, a confirmation ---
  await block(booked.id).click()
  const panel = page.getByTestId('booking-panel')
  await panel.waitFor()
  assert.match(await panel.getByTestId('booking-panel-customer').innerText(), /山田 花子/)
  assert.equal(await panel.getByTestId('booking-panel-status').innerText(), '予約中')
  await panel.getByTestId('booking-move').click()
  const to = slots[3]
  const toLabel = `${jaDay(jstDay(to.start))} ${hhmm(to.start)}〜${hhmm(to.end)}`
  await choose(page, panel.getByTestId('booking-move-slot'), toLabel)
  await panel.getByTestId('booking-move-confirm').click()
  await dialog.waitFor()
  const moveText = await dialog.innerText()
  assert.match(moveText, new RegExp(`山田 花子 さまの「資産運用相談」を ${pickLabel.replace(/[()]/g, '\\$&')} から ${toLabel.replace(/[()]/g, '\\$&')} に変更します。`))
  assert.match(moveText, /お客さまに LINE でお知らせを送ります。/)
  await settle(page)
  await ui.shot('booking-move-confirm-ja.png')
  await dialog.getByRole('button', { name: '日時変更' }).click()
  await page.waitForFunction((l) => document.querySelector('[data-testid="booking-panel-when"]')?.textContent === l, toLabel)
  const after = await mustCall(page, 'Bookings', pick.start, to.end, 0)
  assert.equal(after.find((b) => b.id === booked.id).status, 'rescheduled')
  const moved = after.find((b) => b.start === to.start && b.customerName === '山田 花子' && b.status === 'confirmed')
  assert.ok(moved, 'the moved booking')
  assert.equal(await block(booked.id).count(), 0)

  // --- a no-show on 佐藤 健一's earliest booking, once its start has passed ---
  const ahead = Math.ceil((early.start - Date.now()) / 1000) + 60
  await advanceClock(ui, ahead)
  if (ahead >= 60 * 60) {
    // Today is a holiday: the first slot is another day's, past the idle lock.
    await cal.getByTestId('booking-today').click()
    await page.getByTestId('lock-screen').waitFor()
    await page.getByTestId('unlock-password').fill(PASSWORD)
    await page.getByTestId('unlock-submit').click()
    await page.getByTestId('lock-screen').waitFor({ state: 'detached' })
  }
  await showWeekOf(early.start)
  await block(early.id).click()
  await panel.getByTestId('booking-noshow').click()
  await dialog.waitFor()
  assert.match(await dialog.innerText(), /佐藤 健一 さまの .*「資産運用相談」を来店なしとして記録します。お客さまへの連絡はありません。/)
  await dialog.getByRole('button', { name: '来店なし' }).click()
  await page.waitForFunction(() => document.querySelector('[data-testid="booking-panel-status"]')?.textContent?.trim() === '来店なし')
  assert.equal(await block(early.id).getAttribute('data-status'), 'no_show')
  await settle(page)
  await ui.shot('booking-noshow-ja.png')

  // --- cancel the later one: the confirmation says what the customer gets ---
  await showWeekOf(later.start)
  await block(later.id).click()
  await panel.getByTestId('booking-cancel').click()
  await dialog.waitFor()
  const cancelText = await dialog.innerText()
  assert.match(cancelText, /佐藤 健一 さまの .*「資産運用相談」をキャンセルし、枠を空けます。/)
  // A sandbox customer booked from the inbox is a LINE friend: the engine tells them.
  assert.match(cancelText, /お客さまに LINE でお知らせを送ります。/)
  await settle(page)
  await ui.shot('booking-cancel-confirm-ja.png')
  await dialog.getByRole('button', { name: 'キャンセル' }).click()
  await block(later.id).waitFor({ state: 'detached' })
  assert.equal((await mustCall(page, 'Bookings', later.start, later.end, 0)).find((b) => b.id === later.id).status, 'cancelled')

  // ICS of the shown week, saved where the person chooses (the bridge's save folder).
  await cal.getByTestId('booking-export').click()
  const saved = page.locator('.n-message').filter({ hasText: '.ics' })
  await saved.waitFor()
  const icsPath = /(\S+\.ics)/.exec(await saved.innerText())[1]
  const ics = readFileSync(icsPath, 'utf8')
  assert.match(ics, /^BEGIN:VCALENDAR/)
  assert.ok((ics.match(/BEGIN:VEVENT/g) ?? []).length >= 1, 'an event in the ICS')
  assert.doesNotMatch(ics, /山田 花子|佐藤 健一/, 'no customer names in the ICS')

  const audit = (await mustCall(page, 'AuditEntries', { action: 'booking.', limit: 50 })).entries.map((e) => e.action)
  for (const a of ['booking.type_create', 'booking.hours', 'booking.closed_day', 'booking.create', 'booking.reschedule', 'booking.no_show', 'booking.cancel', 'booking.export']) {
    assert.ok(audit.includes(a), `audited ${a}`)
  }

  // --- English: the calendar's and the settings' own words are translated ---
  await page.getByTestId('lang-en').click()
  await settle(page)
  await showWeekOf(moved.start)
  await block(moved.id).click()
  await panel.waitFor()
  // Names are data: the customers', the staff's, the type's, and Japan's holidays'.
  const holidayNames = (await mustCall(page, 'BookingHolidays', jstDay(Date.now() - 14 * DAY), jstDay(Date.now() + 380 * DAY))).map((h) => h.reason).filter(Boolean)
  // The reminder's placeholders are what staff type, Japanese in both languages.
  const own = (s) =>
    [...holidayNames, '山田 花子', '佐藤 健一', '田中 支店長', '資産運用相談', 'NISA の口座開設も相談したい', '〜', '{種類}', '{日時}', '{支店}', '{電話}'].reduce((x, n) => x.split(n).join(''), s)
  const calWords = await cal.locator('button, strong, p, dt, dd, span.closed-tag').allInnerTexts()
  for (const w of calWords) assert.doesNotMatch(own(w), JAPANESE, `untranslated in the calendar: ${w}`)
  await ui.shot('booking-week-en.png')
  await page.getByTestId('booking-tab-settings').click()
  await settings.getByTestId('booking-type-row').first().waitFor()
  // Holiday names are Japan's and stay Japanese; the rest is translated.
  const setWords = await settings.locator('h3, p, button, label, .meta, .tag, .kind').allInnerTexts()
  for (const w of setWords) assert.doesNotMatch(own(w).replace(/店舗改装/g, ''), JAPANESE, `untranslated in the settings: ${w}`)
  await ui.shot('booking-settings-en.png')
  await page.getByTestId('lang-ja').click()

  assert.deepEqual(pageErrors, [])
})
