// End-to-end UI test of issue 19 items 11 and 14, at 1366×768 in Japanese:
// staff management (role descriptions from auth's table, a role change that
// says what changes and waits for confirmation, no self-deactivation on
// offer, an initial password the staff member must replace) and data display
// (phones by the numbering plan, birth dates in 和暦 with the age).
//
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/staff-and-display.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, pickImportFile, chooseOwnPassword, call } from './harness.mjs'

// 042-383-1791 is 府中 (a 3-digit area code): a fixed split shows 04-2383-1791.
const CUSTOMERS = '顧客番号,氏名,フリガナ,電話番号,生年月日,店番\r\n5001,府中 一郎,ﾌﾁｭｳ ｲﾁﾛｳ,0423831791,昭和55年4月1日,001\r\n'
const INITIAL = 'initial from admin 1'
const OWN = 'sato own passphrase'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-i19b-', pickFile: { name: '顧客.csv', contents: CUSTOMERS } })

async function roleOf(page, login) {
  const r = await call(page, 'ListStaff')
  return r.body.find((s) => s.login === login)?.role
}

/** The row's role select: opens it and picks the role by its label. */
async function pickRole(page, login, label) {
  await page.locator(`[data-testid="staff-row"][data-login="${login}"] [data-testid="staff-row-role"]`).click()
  await page.locator('.n-base-select-option', { hasText: label }).click()
}

/** Age in whole years on today's date (the screen computes it the same way). */
function ageToday(y, m, d) {
  const now = new Date()
  let age = now.getFullYear() - y
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) age--
  return age
}

test('staff: roles described, role change confirmed, no self-deactivation, own password at first sign-in', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui) // tanaka, administrator

  await page.getByTestId('nav-staff').click()
  await page.getByTestId('staff-view').waitFor()

  // Every role says what it may do (auth's table, not a hand-written text).
  const roles = page.getByTestId('role-descriptions')
  await roles.locator('dd[data-role="auditor"]').filter({ hasText: '監査ログの閲覧' }).waitFor()
  assert.match(await roles.locator('dd[data-role="auditor"]').innerText(), /監査ログの書き出し/)
  assert.doesNotMatch(await roles.locator('dd[data-role="auditor"]').innerText(), /返信/)
  assert.match(await roles.locator('dd[data-role="admin"]').innerText(), /職員の管理/)
  assert.match(await roles.locator('dd[data-role="agency"]').innerText(), /伏せて表示/)
  assert.equal(await roles.locator('dt').count(), 5)

  // Deactivating oneself is not offered; the row says why.
  const own = page.locator('[data-testid="staff-row"][data-login="tanaka"]')
  assert.equal(await own.getByTestId('staff-deactivate').count(), 0)
  assert.match(await own.getByTestId('staff-self-note').innerText(), /別の管理者/)

  // A new operator with an initial password: marked as waiting for their own.
  await page.getByTestId('new-staff-login').fill('sato')
  await page.getByTestId('new-staff-name').fill('佐藤 花子')
  await page.getByTestId('new-staff-password').fill(INITIAL)
  await page.getByTestId('staff-create').click()
  const row = page.locator('[data-testid="staff-row"][data-login="sato"]')
  await row.getByTestId('staff-must-change').waitFor()
  assert.equal(await row.getByTestId('staff-deactivate').count(), 1, 'others can be deactivated')

  // A role change from the dropdown asks first, saying what it grants.
  await pickRole(page, 'sato', '管理者')
  const confirm = page.getByTestId('role-change-confirm')
  await confirm.waitFor()
  const text = await confirm.innerText()
  assert.match(text, /「担当者」から「管理者」/)
  assert.match(await confirm.getByTestId('role-gained').innerText(), /職員の管理/)
  assert.match(text, /もう一度サインイン/)
  await page.mouse.move(0, 0)
  await ui.shot('i19b-staff-role-confirm-ja.png')
  await page.getByRole('button', { name: 'キャンセル' }).click()
  await confirm.waitFor({ state: 'detached' })
  assert.equal(await roleOf(page, 'sato'), 'operator', 'cancelled: nothing changed')

  // Towards a masked role it also says what is lost and that data is masked.
  await pickRole(page, 'sato', '代理店')
  await confirm.waitFor()
  assert.match(await confirm.getByTestId('role-lost').innerText(), /返信/)
  assert.match(await confirm.innerText(), /伏せて表示/)
  await page.getByRole('button', { name: '変更する' }).click()
  await confirm.waitFor({ state: 'detached' })
  await page.waitForFunction(async () => {
    const r = await fetch('/api/call/ListStaff', { method: 'POST', body: '[]' })
    return (await r.json()).find((s) => s.login === 'sato')?.role === 'agency'
  })
  await pickRole(page, 'sato', '担当者')
  await confirm.waitFor()
  await page.getByRole('button', { name: '変更する' }).click()
  await confirm.waitFor({ state: 'detached' })
  await page.waitForFunction(async () => {
    const r = await fetch('/api/call/ListStaff', { method: 'POST', body: '[]' })
    return (await r.json()).find((s) => s.login === 'sato')?.role === 'operator'
  })
  await page.mouse.move(0, 0)
  await page.getByTestId('role-descriptions').scrollIntoViewIfNeeded()
  await ui.shot('i19b-staff-list-ja.png')

  // The new staff member signs in with the initial password: nothing but
  // choosing their own, and the Go side refuses data calls meanwhile.
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await page.getByTestId('signin-login').fill('sato')
  await page.getByTestId('signin-password').fill(INITIAL)
  await page.getByTestId('signin-submit').click()
  await page.getByTestId('choose-password-form').waitFor()
  assert.equal(await page.getByTestId('nav-inbox').count(), 0, 'no app before the own password')
  assert.deepEqual(await call(page, 'Customers', {}), { ok: false, body: { error: 'errors.passwordChangeRequired' } })
  await ui.shot('i19b-choose-password-ja.png')
  // The same password again does not count.
  await page.getByTestId('choose-current').fill(INITIAL)
  await page.getByTestId('choose-new').fill(INITIAL)
  await page.getByTestId('choose-confirm').fill(INITIAL)
  await page.getByTestId('choose-password-submit').click()
  await page.getByTestId('choose-password-error').filter({ hasText: '現在のパスワードと同じ' }).waitFor()
  await chooseOwnPassword(page, INITIAL, OWN)
  await page.getByTestId('staff-role').filter({ hasText: '担当者' }).waitFor()
  assert.equal((await call(page, 'Customers', {})).ok, true)

  // English: the same screens have no untranslated strings.
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await page.getByTestId('signin-login').fill('tanaka')
  await page.getByTestId('signin-password').fill('correct horse battery 1')
  await page.getByTestId('signin-submit').click()
  await page.getByTestId('nav-staff').click()
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
  await page.reload()
  await page.getByTestId('nav-staff').click()
  await page.getByTestId('role-descriptions').filter({ hasText: 'What each role may do' }).waitFor()
  await pickRole(page, 'sato', 'Administrator')
  await confirm.waitFor()
  assert.match(await confirm.innerText(), /Will be able to: .*, Staff/)
  await page.mouse.move(0, 0)
  await page.waitForTimeout(400) // the dropdown's closing animation
  await ui.shot('i19b-staff-role-confirm-en.png')
  await page.getByRole('button', { name: 'Cancel' }).click()
  await confirm.waitFor({ state: 'detached' })
  assert.equal(await roleOf(page, 'sato'), 'operator')
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'ja'))
  await page.reload()

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
})

test('display: phone by the numbering plan and birth date in 和暦 with age, stored values unchanged', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await page.getByTestId('nav-import').waitFor()
  await pickImportFile(page)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-step-mapping').waitFor()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()

  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customers-view').waitFor()
  const row = page.locator('[data-testid="customer-row"][data-number="5001"]')
  await row.waitFor()
  assert.match(await row.innerText(), /042-383-1791/)
  assert.doesNotMatch(await row.innerText(), /04-2383-1791/)
  await row.click()
  const card = page.getByTestId('customer-card')
  await card.waitFor()
  assert.match(await card.getByTestId('card-contacts').innerText(), /042-383-1791/)
  const age = ageToday(1980, 4, 1)
  assert.equal(await card.getByTestId('card-birth-date').innerText(), `昭和55年4月1日（${age}歳）`)
  await page.mouse.move(0, 0)
  await ui.shot('i19b-customer-card-phone-birth-ja.png')

  // The stored values stay as they were: display fields only.
  const list = await call(page, 'Customers', {})
  const c = list.body.customers.find((x) => x.customerNo === '5001')
  assert.equal(c.phone, '0423831791')
  assert.equal(c.phoneDisplay, '042-383-1791')
  assert.equal(c.birthDate, '1980-04-01')

  // The linking search shows the same formatted number (searched by digits).
  await page.getByTestId('nav-inbox').click()
  const phone = page.getByTestId('phone-panel')
  const who = phone.getByTestId('phone-customer').first()
  await who.waitFor({ state: 'visible' })
  const name = await who.getAttribute('data-name')
  await who.click()
  await phone.getByTestId('phone-input').fill('住所変更の相談です')
  await phone.getByTestId('phone-send').click()
  await page.getByTestId('conversation-item').filter({ hasText: name }).click()
  const side = page.getByTestId('conversation-customer')
  await side.getByTestId('link-search-open').click()
  const search = page.getByTestId('link-search-dialog')
  await search.getByTestId('link-search-input').fill('0423831791')
  const result = search.locator('[data-testid="link-search-result"][data-number="5001"]')
  await result.waitFor()
  // The linking dialog shows only the last four digits (issue 19 item 10):
  // enough to tell two customers apart, not the number itself.
  assert.match(await result.innerText(), /1791/)
  assert.doesNotMatch(await result.innerText(), /042-383|0423831791|04-2383/)
  await page.mouse.move(0, 0)
  await ui.shot('i19b-link-search-phone-ja.png')

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
})
