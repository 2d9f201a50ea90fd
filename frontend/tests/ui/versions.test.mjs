// Issue 18, working together: the window and a seat (the dev bridge's
// ?seat=) open the same customer; the window saves first, the seat's save
// from its older card is refused with the message, what the seat typed is
// still there, it loads the latest values (who changed them, the saved
// value beside its draft) and saves again. Then once in English.
//
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/versions.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin, importCustomers, mustCall, openSeat, signIn, chooseOwnPassword, settle, artifactsDir } from './harness.mjs'

const CUSTOMERS = '顧客番号,氏名,フリガナ,携帯電話,店番\r\n2001,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,090-1234-5678,001\r\n2002,佐藤 花子,ｻﾄｳ ﾊﾅｺ,,002\r\n'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-versions-', pickFile: { name: '顧客.csv', contents: CUSTOMERS } })

/** Opens customer 2001's card on p. */
async function openCard(p) {
  await p.getByTestId('nav-customers').click()
  await p.locator('[data-testid="customer-row"][data-number="2001"]').click()
  await p.getByTestId('attr-memo').waitFor()
}

test('a save from a card a colleague changed since is refused; the typed text stays; loaded and saved again', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await importCustomers(page)
  await mustCall(page, 'DefineAttribute', { key: 'memo', label: '相談メモ', type: 'text', choices: [] })
  await mustCall(page, 'CreateStaff', { login: 'madoguchi', displayName: '窓口 花子', role: 'operator', password: 'initial password 18' })
  const seat = await openSeat(ui, '窓口2')
  await signIn(seat, 'madoguchi', 'initial password 18')
  await chooseOwnPassword(seat, 'initial password 18', 'madoguchi passphrase 18')
  await seat.getByTestId('nav-customers').waitFor()

  // Both open the card.
  await openCard(page)
  await openCard(seat)

  // The window saves first.
  const WINDOW = '住所変更の手続きを案内済み'
  await page.getByTestId('attr-memo').fill(WINDOW)
  await page.getByTestId('attr-save-memo').click()
  await page.locator('.n-message').filter({ hasText: '保存しました' }).first().waitFor()

  // The seat's save from its older card: refused, said so, nothing lost.
  const SEAT = '年金の受取口座を当行に変更したいとのこと。次回来店時に書類を確認。'
  await seat.getByTestId('attr-memo').fill(SEAT)
  await seat.getByTestId('attr-save-memo').click()
  const banner = seat.getByTestId('card-stale')
  await banner.waitFor()
  assert.match(await banner.innerText(), /この間にほかの担当者がこの顧客の内容を変更したため、保存しませんでした。あなたの入力は残っています。/)
  assert.equal(await seat.getByTestId('attr-memo').inputValue(), SEAT)
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'versions-refused-ja.png') })
  // Nothing of the seat's was written.
  const cust = (await mustCall(page, 'Customers', { query: '2001', limit: 5, offset: 0 })).customers[0]
  assert.deepEqual((await mustCall(page, 'Customer', cust.id)).attributes.map((a) => a.value), [WINDOW])

  // Loading the latest values names who changed it, shows the saved value
  // beside the draft, and keeps the draft.
  await seat.getByTestId('card-stale-load').click()
  await seat.getByTestId('card-stale-load').waitFor({ state: 'detached' })
  assert.match(
    await banner.innerText(),
    /^この間に田中 支店長さんがこの内容を変更しました（\d{4}\/\d{1,2}\/\d{1,2} \d{1,2}:\d{2}:\d{2}）。最新の内容を読み込みました。あなたの入力は残っています。確認してから、もう一度保存してください。$/,
  )
  assert.equal(await seat.getByTestId('attr-saved-memo').innerText().then((s) => s.replace(/\s+/g, ' ').trim()), `保存されている値：${WINDOW} この値に戻す`)
  assert.equal(await seat.getByTestId('attr-memo').inputValue(), SEAT)
  await seat.getByTestId('attr-saved-memo').scrollIntoViewIfNeeded()
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'versions-loaded-ja.png') })

  // Saved again from the latest card: accepted, and the window sees it.
  await seat.getByTestId('attr-save-memo').click()
  await seat.locator('.n-message').filter({ hasText: '保存しました' }).first().waitFor()
  await banner.waitFor({ state: 'detached' })
  await seat.getByTestId('attr-saved-memo').waitFor({ state: 'detached' })
  assert.deepEqual((await mustCall(page, 'Customer', cust.id)).attributes.map((a) => a.value), [SEAT])
  await page.locator('[data-testid="customer-row"][data-number="2001"]').click()
  await page.waitForFunction((v) => document.querySelector('[data-testid="attr-memo"]')?.value === v, SEAT)

  // English, on the seat: the same refusal, nothing left untranslated.
  await seat.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
  await seat.reload()
  await openCard(seat)
  await page.getByTestId('attr-memo').fill('窓口で再確認')
  await page.getByTestId('attr-save-memo').click()
  await page.locator('.n-message').filter({ hasText: '保存しました' }).first().waitFor()
  await seat.getByTestId('attr-memo').fill('Seat note')
  await seat.getByTestId('attr-save-memo').click()
  await banner.waitFor()
  const en = await banner.innerText()
  assert.match(en, /Not saved: someone else changed this customer in the meantime\. What you typed is kept\./)
  await seat.getByTestId('card-stale-load').click()
  await seat.getByTestId('card-stale-load').waitFor({ state: 'detached' })
  assert.match(await banner.innerText(), /^田中 支店長 changed this customer in the meantime \(/)
  const texts = [await banner.innerText(), await seat.getByTestId('attr-saved-memo').innerText()].join('\n')
  const ja = texts.replaceAll('田中 支店長', '').replaceAll('窓口で再確認', '').match(/[^\n]*[ぁ-んァ-ヶ一-龥][^\n]*/g) ?? []
  assert.deepEqual(ja, [], 'untranslated text in the English refusal')
  assert.equal(await seat.getByTestId('attr-memo').inputValue(), 'Seat note')
  await seat.getByTestId('attr-saved-memo').scrollIntoViewIfNeeded()
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'versions-loaded-en.png') })
  await seat.evaluate(() => localStorage.setItem('tsunagu.locale', 'ja'))

  // The unsaved text outlives a reload of the seat (a draft): it comes back
  // with the saved value beside it.
  await seat.reload()
  await openCard(seat)
  await seat.waitForFunction(() => document.querySelector('[data-testid="attr-memo"]')?.value === 'Seat note')
  await seat.getByTestId('attr-saved-memo').filter({ hasText: '保存されている値：窓口で再確認' }).waitFor()
  // Taking the saved value leaves nothing to keep.
  await seat.getByTestId('attr-take-memo').click()
  await seat.getByTestId('attr-saved-memo').waitFor({ state: 'detached' })
  assert.deepEqual(ui.pageErrors, [])
  await seat.context().close()
})

test('a campaign saved from a stale editor keeps the draft and is saved over only when confirmed; an approval is of the version seen', async () => {
  const { page } = ui // the window, 田中 支店長 (administrator)
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: 'approver initial 18' })
  const maker = await openSeat(ui, '窓口4') // 窓口2 is still signed in from the first test
  await signIn(maker, 'madoguchi', 'madoguchi passphrase 18')
  await maker.getByTestId('nav-campaigns').waitFor()
  const content = (text) => ({ line: [{ kind: 'text', text }], email: { subject: '', text: '' }, sms: { text: '' } })
  const draft = (name, text) => ({ name, segmentId: 0, rules: { op: 'and' }, content: content(text), channels: ['line'] })
  const c = await mustCall(maker, 'CreateCampaign', draft('年末のご案内', '年末年始の窓口営業についてお知らせします。'))

  // The window edits the name; meanwhile the maker saves new LINE text.
  await page.getByTestId('nav-campaigns').click()
  await page.locator('[data-testid="campaign-row"]').filter({ hasText: '年末のご案内' }).click()
  await page.getByTestId('campaign-edit').click()
  const NAME = '年末年始のご案内（本店）'
  await page.getByTestId('campaign-name').fill(NAME)
  await mustCall(maker, 'UpdateCampaign', c.id, c.version, draft('年末のご案内', '12月31日から1月3日まで窓口はお休みです。'))

  // Saving is refused; the draft stays, and the banner says what differs.
  await page.getByTestId('campaign-save').click()
  const banner = page.getByTestId('campaign-stale')
  await banner.waitFor()
  assert.match(await banner.innerText(), /この編集を始めた後にほかの担当者が保存したため、保存しませんでした。あなたの入力は残っています。/)
  assert.match(await page.getByTestId('campaign-stale-parts').innerText(), /^最新の内容で異なる項目：配信名・LINE のメッセージ$/)
  assert.equal(await page.getByTestId('campaign-name').inputValue(), NAME)
  await settle(page)
  await ui.shot('versions-campaign-stale-ja.png')

  // Saving over it asks first, naming what will be replaced.
  await page.getByTestId('campaign-stale-over').click()
  const ask = page.locator('.n-dialog').filter({ hasText: 'あなたの入力で保存し直しますか' })
  await ask.waitFor()
  assert.match(await ask.innerText(), /ほかの担当者の変更（配信名・LINE のメッセージ）は、あなたの入力で置き換わります。/)
  await page.locator('.n-dialog__action button').filter({ hasText: 'あなたの入力で保存する' }).click()
  await page.locator('[data-testid="campaign-detail"][data-version="3"]').waitFor()
  assert.equal((await mustCall(page, 'Campaign', c.id)).name, NAME)

  // The approver on another seat asks to approve version 3; the maker saves
  // version 4 before the answer: the approval is refused and version 4 shown.
  const checker = await openSeat(ui, '窓口3')
  await signIn(checker, 'suzuki', 'approver initial 18')
  await chooseOwnPassword(checker, 'approver initial 18', 'suzuki passphrase 18')
  await checker.getByTestId('nav-campaigns').click()
  await checker.locator('[data-testid="campaign-row"]').filter({ hasText: NAME }).click()
  await checker.locator('[data-testid="campaign-detail"][data-version="3"]').waitFor()
  await checker.getByTestId('campaign-approve').click()
  await checker.getByTestId('approve-confirm').waitFor()
  await mustCall(maker, 'UpdateCampaign', c.id, 3, draft(NAME, '12月31日から1月3日まで窓口はお休みです。ATMはご利用いただけます。'))
  await checker.locator('.n-dialog__action button').filter({ hasText: '承認する' }).click()
  await checker.locator('.n-message').filter({ hasText: 'この間にほかの職員がこのキャンペーンを変更したため、実行しませんでした。' }).waitFor()
  await checker.locator('[data-testid="campaign-detail"][data-version="4"][data-status="draft"]').waitFor()
  const now = await mustCall(page, 'Campaign', c.id)
  assert.equal(now.status, 'draft')
  assert.equal(now.approvedBy, '')
  await checker.screenshot({ path: join(artifactsDir, 'versions-approval-refused-ja.png') })

  // Approving what is now shown goes through.
  await checker.getByTestId('campaign-approve').click()
  await checker.getByTestId('approve-confirm').waitFor()
  await checker.locator('.n-dialog__action button').filter({ hasText: '承認する' }).click()
  await checker.locator('[data-testid="campaign-detail"][data-version="4"][data-status="approved"]').waitFor()
  assert.deepEqual(ui.pageErrors, [])
  await maker.context().close()
  await checker.context().close()
})
