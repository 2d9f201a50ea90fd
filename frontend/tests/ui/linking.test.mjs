// End-to-end UI test of customer linking: staff issue a link code for a
// customer and print the letter; the simulated customer sends the code from
// the phone panel and the conversation shows the linked customer; a second
// friend is linked by hand from the inbox and answered.
//
// Runs the real dev bridge (Go) serving the built frontend, drives Debian's
// Chromium through playwright-core, and saves screenshots for review.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/linking.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, pickImportFile, printToText, importCustomers } from './harness.mjs'

const CSV =
  '顧客番号,氏名,フリガナ,生年月日,携帯電話,店番,担当者\n' +
  '3001,連携 花子,レンケイ ハナコ,1980/4/1,090-1111-3001,001,田中\n' +
  '3002,手動 次郎,シュドウ ジロウ,1975/12/24,090-2222-3002,002,佐藤\n'
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-linking-', pickFile: { name: 'customers.csv', contents: CSV } })

const REPLY_TEXT = '連携ありがとうございます。担当の田中からご連絡いたします。'

/** Types text on the simulated phone of the nth simulated customer and
 * returns their display name. */
async function sendFromPhone(page, nth, text) {
  const phone = page.getByTestId('phone-panel')
  const who = phone.getByTestId('phone-customer').nth(nth)
  await who.waitFor({ state: 'visible' })
  const name = await who.getAttribute('data-name')
  await who.click()
  await phone.getByTestId('phone-input').fill(text)
  await phone.getByTestId('phone-send').click()
  await phone.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: text }).first().waitFor()
  return name
}

test('a customer links with a printed code; a second friend is linked by hand and answered', async () => {
  const { page, pageErrors } = ui
  await signInFirstAdmin(ui)
  await importCustomers(page)

  // Customers screen: the card shows 未連携 and issues a code on a letter.
  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await page.locator('[data-testid="customer-row"][data-number="3001"]').click()
  const section = page.getByTestId('customer-link-section')
  await section.getByTestId('customer-link-state').filter({ hasText: '未連携' }).waitFor()
  await section.getByTestId('customer-issue-code').click()
  const issue = page.getByTestId('issue-code-dialog')
  await issue.getByTestId('issue-code-customer').filter({ hasText: '3001' }).waitFor()
  assert.match(await issue.innerText(), /有効期限は発行から 14 日/)
  await issue.getByTestId('issue-code-submit').click()
  const letter = page.getByTestId('link-letter')
  await letter.waitFor()
  const code = (await letter.getByTestId('letter-code').innerText()).trim()
  assert.match(code, /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/)
  assert.equal(await letter.getByTestId('letter-name').innerText(), '連携 花子 様')
  assert.match(await letter.getByTestId('letter-qr').getAttribute('src'), /^data:image\/png;base64,/)
  assert.match(await letter.innerText(), /ご連携の手順/)
  // Print is the browser's: it must not throw (headless Chromium prints to nowhere).
  await page.evaluate(() => {
    window.print = () => {
      window.__printed = (window.__printed || 0) + 1
    }
  })
  await page.getByTestId('letter-print').click()
  assert.equal(await page.evaluate(() => window.__printed), 1)
  await page.waitForTimeout(300)
  await ui.shot('linking-letter-ja.png')
  // The letter prints alone: the print stylesheet hides the app around it.
  await page.emulateMedia({ media: 'print' })
  assert.equal(await page.getByTestId('nav-customers').evaluate((el) => getComputedStyle(el).visibility), 'hidden')
  assert.equal(await letter.evaluate((el) => getComputedStyle(el).visibility), 'visible')
  await ui.shot('linking-letter-print-ja.png')
  await page.emulateMedia({ media: 'screen' })
  // On paper (Chromium's print path): the letter with its code, nothing else.
  const printed = await printToText(ui, 'linking-letter-print')
  assert.ok(printed.replace(/\s+/g, '').includes(code), `the printed letter holds ${code}:\n${printed}`)
  assert.match(printed, /連携 花子 様/)
  assert.doesNotMatch(printed, /受信箱|連携コードの発行|閉じる前に印刷/, 'the letter prints alone')
  await issue.getByTestId('issue-close').click()
  await issue.waitFor({ state: 'detached' })
  await section.getByTestId('customer-open-code').filter({ hasText: '未使用' }).waitFor()

  // Inbox: the simulated customer sends the code as the QR code prefills it.
  await page.getByTestId('nav-inbox').click()
  const name = await sendFromPhone(page, 0, `連携コード: ${code}`)
  const phone = page.getByTestId('phone-panel')
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: '連携が完了しました' }).waitFor()
  const item = page.getByTestId('conversation-item').filter({ hasText: name })
  await item.click()
  const card = page.getByTestId('conversation-customer')
  await page.locator('[data-testid="conversation-customer"][data-linked="true"]').waitFor()
  assert.equal(await card.getByTestId('linked-customer-name').innerText(), '連携 花子')
  assert.match(await card.innerText(), /顧客番号 3001/)
  assert.match(await card.innerText(), /連携コード/)
  await page.mouse.move(0, 0)
  await ui.shot('linking-linked-by-code-ja.png')

  // A second friend writes; staff find the customer and link by hand.
  const second = await sendFromPhone(page, 1, '口座の住所変更をしたいのですが')
  await page.getByTestId('conversation-item').filter({ hasText: second }).click()
  await page.locator('[data-testid="conversation-customer"][data-linked="false"]').waitFor()
  assert.match(await card.getByTestId('link-state').innerText(), /未連携/)
  await page.mouse.move(0, 0)
  await ui.shot('linking-not-linked-ja.png')
  await card.getByTestId('link-search-open').click()
  const search = page.getByTestId('link-search-dialog')
  await search.getByTestId('link-search-input').fill('シュドウ')
  const row = search.locator('[data-testid="link-search-result"][data-number="3002"]')
  await row.waitFor()
  // The customer already linked by code is marked as such.
  await search.getByTestId('link-search-input').fill('090-1111')
  await search.locator('[data-testid="link-search-result"][data-number="3001"]').filter({ hasText: '連携済' }).waitFor()
  await search.getByTestId('link-search-input').fill('3002')
  await row.getByTestId('link-search-select').click()
  await search.getByTestId('link-confirm-customer').filter({ hasText: '手動 次郎' }).waitFor()
  await page.waitForTimeout(300)
  // How the customer consented is chosen before linking (issue 19 item 10).
  await search.getByTestId('link-consent-verbal').click()
  await ui.shot('linking-manual-confirm-ja.png')
  await search.getByTestId('link-confirm').click()
  await search.waitFor({ state: 'detached' })
  await page.locator('[data-testid="conversation-customer"][data-linked="true"]').waitFor()
  assert.equal(await card.getByTestId('linked-customer-name').innerText(), '手動 次郎')

  // And answers the message.
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('composer-input').fill(REPLY_TEXT)
  await pane.getByTestId('composer-send').click()
  await pane.locator('[data-testid="message-bubble"][data-direction="out"][data-status="sent"]').filter({ hasText: REPLY_TEXT }).waitFor()
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: REPLY_TEXT }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('linking-manual-linked-ja.png')

  // Unlinking needs a reason.
  await card.getByTestId('link-unlink').click()
  const unlink = page.getByTestId('unlink-dialog')
  await unlink.getByTestId('unlink-confirm').click()
  await unlink.getByText('理由を入力してください。').waitFor()
  await unlink.getByTestId('unlink-reason').fill('お客さまのお申し出のため')
  await unlink.getByTestId('unlink-confirm').click()
  await unlink.waitFor({ state: 'detached' })
  await page.locator('[data-testid="conversation-customer"][data-linked="false"]').waitFor()

  // Relink: the first friend moves from 3001 to 3002, with a reason.
  await page.getByTestId('conversation-item').filter({ hasText: name }).click()
  await page.locator('[data-testid="conversation-customer"][data-linked="true"]').waitFor()
  await card.getByTestId('link-relink').click()
  await search.getByTestId('link-search-input').fill('3002')
  await row.getByTestId('link-search-select').click()
  await search.getByTestId('link-confirm').click()
  await search.getByText('理由を入力してください。').waitFor()
  await search.getByTestId('relink-reason').fill('別のお客さまと取り違えたため')
  await search.getByTestId('link-confirm').click()
  await search.waitFor({ state: 'detached' })
  await card.getByTestId('linked-customer-name').filter({ hasText: '手動 次郎' }).waitFor()

  // English.
  await page.getByTestId('lang-en').click()
  await card.getByTestId('link-state').filter({ hasText: 'Linked' }).waitFor()
  // The toasts of the steps before have faded (waited for, not slept: 4 s
  // each, and they go later on a loaded machine).
  await page
    .waitForFunction(() => document.querySelectorAll('.n-message').length === 0, null, { timeout: 30_000 })
    .catch(async (err) => assert.fail(`toasts still shown after 30 s: ${(await page.locator('.n-message').allInnerTexts()).join(' / ')} (${err.message})`))
  await page.mouse.move(0, 0)
  await ui.shot('linking-linked-en.png')
  await page.getByTestId('lang-ja').click()

  // No code reaches the server's log.
  assert.ok(!ui.serverOutput.includes(code), 'the devserver log contains the link code')
  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
