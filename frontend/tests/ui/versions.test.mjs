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
  assert.deepEqual(ui.pageErrors, [])
  await seat.context().close()
})
