// End-to-end UI test: an administrator erases a customer on their request
// (APPI) from the customer card: the confirmation names the customer number,
// the customer leaves the list and the other customer stays.
//
// Runs the real dev bridge (Go) serving the built frontend, drives Debian's
// Chromium through playwright-core, and saves screenshots for review.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, pickImportFile } from './harness.mjs'

const CSV = '顧客番号,氏名,携帯電話,メールアドレス,店番\n' + '2001,消去　花子,090-8765-4321,hanako@example.jp,001\n' + '2002,残存　太郎,090-1111-2222,taro@example.jp,001\n'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-erase-', pickFile: { name: 'customers.csv', contents: CSV } })

test('an administrator erases a customer from the card', async () => {
  const { page, pageErrors } = ui
  await signInFirstAdmin(ui)

  await pickImportFile(page)
  await page.waitForFunction(() => !document.querySelector('[data-testid="import-next"]')?.disabled)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-step-mapping').waitFor()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
  await page.getByTestId('import-to-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 2)

  await page.locator('[data-testid="customer-row"][data-number="2001"]').click()
  await page.getByTestId('customer-card').waitFor()
  assert.equal(await page.getByTestId('card-name').innerText(), '消去 花子')
  await page.getByTestId('card-erase').click()
  const dialog = page.locator('.n-dialog')
  await dialog.waitFor()
  assert.match(await dialog.innerText(), /顧客 2001 を消去しますか？/)
  assert.match(await dialog.innerText(), /元に戻せません/)
  await page.waitForTimeout(300) // the dialog's transition
  await ui.shot('customers-erase-confirm-ja.png')

  // Cancel keeps the customer; confirming erases it.
  await dialog.getByRole('button', { name: 'キャンセル' }).click()
  await dialog.waitFor({ state: 'detached' })
  assert.equal(await page.getByTestId('customer-row').count(), 2)
  await page.getByTestId('card-erase').click()
  await page.locator('.n-dialog').getByRole('button', { name: '消去する' }).click()
  await page.getByTestId('customer-card').waitFor({ state: 'detached' })
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 1)
  assert.equal(await page.getByTestId('customer-row').first().getAttribute('data-number'), '2002')
  await page.getByTestId('customer-search').fill('090-8765-4321')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 0)
  await ui.shot('customers-erased-ja.png')

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
