// End-to-end UI test: a simulated customer writes in, the clerk replies.
//
// Runs the real dev bridge (Go) serving the built frontend, drives Debian's
// Chromium through playwright-core, and saves screenshots for review.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/
// (the Makefile builds the binary and wraps this in .ci/keyring-session).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, submitFirstRun } from './harness.mjs'

const CUSTOMER_TEXT = '住宅ローンの金利について教えてください'
const REPLY_TEXT = 'お問い合わせありがとうございます。担当の者からご連絡いたします。'
const ADMIN_PASSWORD = 'ui-test admin passphrase'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-' })

test('a simulated customer writes in and the clerk replies (ja, then en)', async () => {
  const { page, pageErrors } = ui
  await page.goto(`${ui.baseUrl}/`)

  // First run: create the administrator (signs in) and set the recovery
  // code aside.
  await submitFirstRun(page, { login: 'admin', name: '山田 太郎', password: ADMIN_PASSWORD })
  await page.getByTestId('recovery-code').waitFor()
  await page.getByTestId('recovery-stored').click()
  await page.getByTestId('recovery-done').click()

  // Sandbox banner, in Japanese by default.
  const banner = page.getByTestId('sandbox-banner')
  await banner.waitFor({ state: 'visible' })
  assert.match(await banner.innerText(), /サンドボックスモード：LINE シミュレーターに接続しています。実際のお客さまには送信されません。/)

  // As the customer, on the simulated phone.
  const phonePanel = page.getByTestId('phone-panel')
  const firstCustomer = phonePanel.getByTestId('phone-customer').first()
  await firstCustomer.waitFor({ state: 'visible' })
  const customerName = await firstCustomer.getAttribute('data-name')
  assert.ok(customerName, 'the first simulated customer has a name')
  await firstCustomer.click()
  await phonePanel.getByTestId('phone-input').fill(CUSTOMER_TEXT)
  await phonePanel.getByTestId('phone-send').click()
  await phonePanel.getByTestId('phone-message').filter({ hasText: CUSTOMER_TEXT }).first().waitFor()
  assert.equal(
    await phonePanel.getByTestId('phone-message').filter({ hasText: CUSTOMER_TEXT }).first().getAttribute('data-from'),
    'customer',
  )

  // It shows up in the clerk's inbox, unread, without a reload.
  const item = page.getByTestId('conversation-item').filter({ hasText: customerName })
  await item.getByTestId('unread-badge').waitFor({ state: 'visible' })
  assert.match(await item.innerText(), new RegExp(CUSTOMER_TEXT))
  await page.getByTestId('header-unread').filter({ hasText: /未読 [1-9]\d* 件/ }).waitFor()
  assert.match(await page.title(), /^\(\d+\) つなぐ/)

  // Open it: the message is there and the conversation is marked read.
  await item.click()
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('message-bubble').filter({ hasText: CUSTOMER_TEXT }).first().waitFor()
  assert.equal(await pane.getByTestId('message-bubble').filter({ hasText: CUSTOMER_TEXT }).first().getAttribute('data-direction'), 'in')
  await item.getByTestId('unread-badge').waitFor({ state: 'detached' })

  // Reply.
  await pane.getByTestId('composer-input').fill(REPLY_TEXT)
  await pane.getByTestId('composer-send').click()
  const reply = pane.locator('[data-testid="message-bubble"][data-direction="out"]').filter({ hasText: REPLY_TEXT })
  await pane.locator('[data-testid="message-bubble"][data-direction="out"][data-status="sent"]').filter({ hasText: REPLY_TEXT }).waitFor()
  assert.equal(await reply.count(), 1, 'the reply is shown exactly once')
  assert.equal(await pane.getByTestId('composer-input').inputValue(), '', 'the composer is cleared')

  // The customer sees it on the phone as a message from the official account.
  await phonePanel.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: REPLY_TEXT }).waitFor()

  await page.mouse.move(0, 0)
  await ui.shot('receive-reply-ja.png')

  // Switch to English: UI text changes, state stays.
  await page.getByTestId('lang-en').click()
  await banner.filter({ hasText: 'Sandbox mode' }).waitFor()
  await pane.getByTestId('delivery-sent').filter({ hasText: 'Sent' }).first().waitFor()
  assert.equal(await page.evaluate(() => localStorage.getItem('tsunagu.locale')), 'en')
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')
  await ui.shot('receive-reply-en.png')

  // The administrator turns on read receipts (既読), off by default; the
  // choice is kept by the Go side (reopening the drawer reloads it).
  await page.getByTestId('open-settings').click()
  const markRead = page.getByTestId('settings-mark-read')
  await markRead.waitFor()
  assert.equal(await markRead.getAttribute('aria-checked'), 'false', 'read receipts are off by default')
  await markRead.click()
  await page.locator('[data-testid="settings-mark-read"][aria-checked="true"]').waitFor()
  await page.keyboard.press('Escape')
  await page.getByTestId('settings-drawer').waitFor({ state: 'detached' })
  await page.getByTestId('open-settings').click()
  await page.locator('[data-testid="settings-mark-read"][aria-checked="true"]').waitFor()
  await page.keyboard.press('Escape')

  // Nothing the customer or the clerk typed reaches the server's log.
  for (const v of [CUSTOMER_TEXT, REPLY_TEXT, ADMIN_PASSWORD]) {
    assert.ok(!ui.serverOutput.includes(v), `the devserver log contains ${JSON.stringify(v)}`)
  }

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
})

test('a simulated customer sends a sticker, a photo and taps a postback button', async () => {
  const { page, pageErrors } = ui
  await page.getByTestId('lang-ja').click()
  const phonePanel = page.getByTestId('phone-panel')
  const second = phonePanel.getByTestId('phone-customer').nth(1)
  const name = await second.getAttribute('data-name')
  await second.click()
  await phonePanel.getByTestId('phone-sticker').click()
  await phonePanel.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: '（スタンプ）' }).waitFor()
  await phonePanel.getByTestId('phone-photo').click()
  await phonePanel.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: '（写真）' }).waitFor()
  await phonePanel.getByTestId('phone-postback').click()
  await phonePanel.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: '来店予約をする' }).waitFor()

  // Each arrives in the clerk's inbox through the signed webhook, by kind.
  const item = page.getByTestId('conversation-item').filter({ hasText: name })
  await item.click()
  const pane = page.getByTestId('conversation-pane')
  // The sticker as its image (served by the simulator), labelled for screen readers.
  await pane.locator('[data-testid="message-bubble"][data-direction="in"] [data-testid="sticker-image"][alt="［スタンプ］"]').waitFor()
  // A tap on a button the account did not send (the phone's sample) has no
  // known label: it shows as a button operation, never its data.
  await pane.locator('[data-testid="message-bubble"][data-direction="in"]').filter({ hasText: '［ボタン操作］' }).waitFor()
  assert.doesNotMatch(await pane.innerText(), /action=/)
  // The photo was downloaded through the content API into the encrypted
  // DB, and is shown from there.
  const photo = pane.locator('[data-testid="message-bubble"][data-kind="image"] [data-testid="message-image"]')
  await photo.waitFor()
  assert.match(await photo.getAttribute('src'), /^data:image\/png;base64,/)
  await page.mouse.move(0, 0)
  await ui.shot('phone-actions-ja.png')
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
})
