// End-to-end UI test of the outage drill (issue 17): with the simulated LINE
// API down, a photo a customer sends arrives at once as a placeholder (the
// conversation named by the short form of the LINE user ID), the header
// says LINE is unreachable and what waits; once LINE is back the photo and
// the name fill in by themselves. A photo LINE no longer has is marked
// 期限切れ and can be fetched again (再取得). Screenshots at 1366x768 in
// Japanese.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, submitFirstRun } from './harness.mjs'

const ADMIN_PASSWORD = 'ui-test admin passphrase'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-pending-' })

test('a photo sent while LINE is down fills in by itself; an expired one offers 再取得 (ja)', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await page.goto(`${ui.baseUrl}/`)
  await submitFirstRun(page, { login: 'admin', name: '山田 太郎', password: ADMIN_PASSWORD })
  await page.getByTestId('recovery-code').waitFor()
  await page.getByTestId('recovery-stored').click()
  await page.getByTestId('recovery-done').click()

  // LINE goes down (the drill in the simulator panel).
  const phone = page.getByTestId('phone-panel')
  await phone.getByTestId('phone-drill').locator('summary').click()
  await phone.getByTestId('drill-down').click()
  await phone.locator('[data-testid="drill-down"][aria-checked="true"]').waitFor()

  // The customer sends a photo: it is in the inbox at once.
  const customer = phone.getByTestId('phone-customer').first()
  await customer.waitFor({ state: 'visible' })
  const customerName = await customer.getAttribute('data-name')
  await customer.click()
  await phone.getByTestId('phone-photo').click()

  // No profile yet: the conversation is named by the short user ID.
  const item = page.getByTestId('conversation-item').first()
  await item.waitFor({ state: 'visible' })
  assert.match(await item.locator('.name').innerText(), /^LINE ユーザー …[0-9a-f]{4}$/)
  await item.click()
  const pane = page.getByTestId('conversation-pane')
  assert.match(await pane.getByTestId('conversation-title').innerText(), /^LINE ユーザー …[0-9a-f]{4}$/)
  const placeholder = pane.getByTestId('content-pending')
  await placeholder.waitFor({ state: 'visible' })
  assert.match(await placeholder.innerText(), /LINE から取得しています/)

  // The header tells staff that LINE is unreachable, since when, and what waits.
  const status = page.getByTestId('line-status-down')
  await status.waitFor({ state: 'visible', timeout: 30_000 })
  assert.match(await status.innerText(), /^LINE に接続できません（\d{1,2}:\d{2} から）$/)
  assert.match(await page.getByTestId('line-status-waiting').innerText(), /取得待ち 2 件・送信待ち 0 件/)
  await page.mouse.move(0, 0)
  await ui.shot('pending-content-ja.png')

  // LINE is back: the photo and the name fill in without a reload.
  await phone.getByTestId('drill-up').click()
  await pane.getByTestId('message-image').waitFor({ state: 'visible', timeout: 30_000 })
  assert.equal(await pane.getByTestId('content-pending').count(), 0)
  await pane.getByTestId('conversation-title').filter({ hasText: customerName }).waitFor({ timeout: 30_000 })
  await page.getByTestId('line-status').waitFor({ state: 'detached', timeout: 30_000 })

  // A photo LINE no longer has: 期限切れ, with 再取得.
  await phone.getByTestId('drill-expire').check()
  await phone.getByTestId('phone-photo').click()
  const expired = pane.getByTestId('content-expired')
  await expired.waitFor({ state: 'visible', timeout: 30_000 })
  assert.match(await expired.innerText(), /期限切れ/)
  await page.mouse.move(0, 0)
  await ui.shot('expired-content-ja.png')

  // LINE has it again (in the drill): 再取得 brings it.
  await phone.getByTestId('drill-expire').uncheck()
  await expired.getByTestId('content-refetch').click()
  await pane.getByTestId('message-image').nth(1).waitFor({ state: 'visible', timeout: 30_000 })
  assert.equal(await pane.getByTestId('content-expired').count(), 0)

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
