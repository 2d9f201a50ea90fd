// End-to-end UI test: an administrator imports customers and then their
// contracts (a second import kind, UTF-8 with BOM), defines custom attributes
// and a tag, and edits a customer's card: consent per channel (recorded as
// staff:<login>), tags, attribute values; the products list shows the
// imported contracts; the list filters by consent and tag.
//
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/customer-card.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin, pickImportFile } from './harness.mjs'

const CUSTOMERS = '顧客番号,氏名,フリガナ,携帯電話,店番\r\n2001,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,090-1234-5678,001\r\n2002,佐藤 花子,ｻﾄｳ ﾊﾅｺ,,002\r\n'
// Contracts as a core system exports them: half-width kana, full-width
// account numbers, era dates, a status column, an unknown customer.
const CONTRACTS =
  '顧客番号,商品種別,商品コード,口座番号,開設日,満期日,状態,預金残高区分\r\n' +
  '2001,ﾌﾂｳﾖｷﾝ,101,１２３４５６７,H10.4.1,,有効,100-300万\r\n' +
  '2001,定期預金,201,7654321,令和5年4月1日,R10.4.1,契約中,300-500万\r\n' +
  '2001,カードローン,601,0000002,昭和60年1月1日,,解約,\r\n' +
  '9999,普通預金,101,1111111,,,,\r\n'

const ui = useUiHarness({
  dataPrefix: 'tsunagu-ui-card-',
  pickFile: { name: '顧客.csv', contents: CUSTOMERS },
})

async function runWizard(page) {
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-step-mapping').waitFor()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
}

test('contracts import, attribute and tag administration, and card edits', async () => {
  const { page, pageErrors } = ui
  await signInFirstAdmin(ui)

  // Customers first (the dialog answers 顧客.csv).
  await pickImportFile(page)
  await runWizard(page)

  // Then the contracts: the other kind, the path typed in.
  const contractsPath = join(ui.filesDir, '契約.csv')
  writeFileSync(contractsPath, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CONTRACTS)]))
  await page.getByRole('button', { name: '別のファイルを取り込む' }).click()
  await page.getByTestId('import-kind-contracts').click()
  await page.getByTestId('import-path').fill(contractsPath)
  await page.getByTestId('import-next').click()
  const mapping = page.getByTestId('import-step-mapping')
  await mapping.waitFor()
  assert.match(await mapping.innerText(), /→ フツウヨキン/)
  assert.match(await mapping.innerText(), /→ 1234567/)
  assert.match(await mapping.innerText(), /→ 1998-04-01/)
  assert.match(await mapping.innerText(), /ファイルにない既存の契約/)
  await page.waitForTimeout(300)
  await ui.shot('contracts-1-mapping-ja.png')
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  assert.match(await page.getByTestId('count-new').innerText(), /^3\s*新規/)
  assert.match(await page.getByTestId('count-rejected').innerText(), /^1\s*不備で除外/)
  assert.match(await page.getByTestId('import-issue').first().innerText(), /^5\s+顧客番号\s+.*顧客番号が顧客データベースにありません/)
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
  assert.match(await page.getByTestId('import-history').innerText(), /契約\s+契約\.csv\s+田中 支店長\s+3/)
  await page.waitForTimeout(300)
  await ui.shot('contracts-2-done-ja.png')

  // Administration: a choice attribute, a boolean one and a tag.
  await page.getByTestId('import-to-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await page.getByTestId('customers-admin').click()
  await page.getByTestId('customer-admin').waitFor()
  await page.getByTestId('attr-new-label').fill('年収帯')
  await page.getByTestId('attr-new-key').fill('income')
  await page.getByTestId('attr-new-type').click()
  await page.locator('.n-base-select-option', { hasText: '選択肢' }).click()
  await page.getByTestId('attr-new-choices').fill('〜300万、300〜500万、500万〜')
  await page.getByTestId('attr-new-add').click()
  await page.locator('[data-testid="admin-attributes"] tr[data-key="income"]').waitFor()
  await page.getByTestId('attr-new-label').fill('NISA口座')
  await page.getByTestId('attr-new-key').fill('nisa')
  await page.getByTestId('attr-new-type').click()
  await page.locator('.n-base-select-option', { hasText: 'はい／いいえ' }).click()
  await page.getByTestId('attr-new-add').click()
  await page.locator('[data-testid="admin-attributes"] tr[data-key="nisa"]').waitFor()
  await page.getByTestId('tag-new-name').fill('年金受取')
  await page.getByTestId('tag-new-add').click()
  await page.getByTestId('admin-tags').getByText('年金受取').waitFor()
  assert.match(await page.getByTestId('admin-attributes').innerText(), /年収帯\s+income\s+選択肢\s+〜300万、300〜500万、500万〜/)
  await page.waitForTimeout(300)
  await ui.shot('customers-admin-ja.png')
  await page.getByTestId('customers-admin').click()

  // A customers file with a tags column and an attribute column: both are
  // mapped automatically (the attribute by its label).
  const tagged = join(ui.filesDir, '顧客_属性.csv')
  writeFileSync(tagged, '顧客番号,氏名,タグ,年収帯\r\n2002,佐藤 花子,定期満期;ＶＩＰ,〜300万\r\n')
  await page.getByTestId('nav-import').click()
  await page.getByTestId('import-path').fill(tagged)
  await page.getByTestId('import-next').click()
  const tmap = page.getByTestId('import-step-mapping')
  await tmap.waitFor()
  assert.match(await tmap.innerText(), /取り込む項目：顧客番号、氏名、タグ（「;」「、」で区切る・追加のみ）、属性：年収帯/)
  assert.match(await tmap.innerText(), /→ 定期満期、VIP/)
  await page.waitForTimeout(300)
  await ui.shot('import-tags-attributes-ja.png')
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
  await page.getByTestId('import-to-customers').click()
  await page.locator('[data-testid="customer-row"][data-number="2002"]').click()
  await page.getByTestId('card-tag-VIP').waitFor()
  await page.getByTestId('card-tag-定期満期').waitFor()

  // The card: products, then edits.
  await page.locator('[data-testid="customer-row"][data-number="2001"]').click()
  const card = page.getByTestId('customer-card')
  await card.waitFor()
  const products = await page.getByTestId('card-products').innerText()
  assert.match(products, /フツウヨキン\s+101 · 1234567\s*1998-04-01\s*100-300万/)
  assert.match(products, /定期預金\s+201 · 7654321\s*2023-04-01 → 2028-04-01\s*300-500万/)
  assert.match(products, /カードローン\s+601 · 0000002\s*1985-01-01\s*解約/)

  await page.getByTestId('consent-grant-email').click()
  await page.locator('[data-testid="card-consents"] tr', { hasText: 'メール' }).getByText('田中 支店長', { exact: false }).waitFor()
  await page.getByTestId('consent-refuse-sms').click()
  await page.locator('[data-testid="card-consents"] tr', { hasText: 'SMS' }).getByText('拒否', { exact: true }).waitFor()

  await page.getByTestId('card-tag-select').click()
  await page.locator('.n-base-select-option', { hasText: '年金受取' }).click()
  await page.getByTestId('card-tag-add').click()
  await page.getByTestId('card-tag-年金受取').waitFor()

  await page.getByTestId('attr-income').click()
  await page.locator('.n-base-select-option', { hasText: '300〜500万' }).click()
  await page.getByTestId('attr-save-income').click()
  await page.getByTestId('attr-nisa').click()
  await page.locator('.n-base-select-option', { hasText: 'はい' }).click()
  await page.getByTestId('attr-save-nisa').click()
  await page.waitForFunction(async () => document.querySelectorAll('.n-message').length >= 2)
  await page.waitForTimeout(600)
  await ui.shot('customer-card-edit-ja.png')

  // The list's filters: consent per channel, tag.
  await page.getByTestId('filter-consent').click()
  await page.locator('.n-base-select-option', { hasText: 'メール：同意あり' }).click()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 1)
  assert.equal(await page.getByTestId('customer-row').first().getAttribute('data-number'), '2001')
  await page.getByTestId('filter-consent').click()
  await page.locator('.n-base-select-option', { hasText: 'メール：同意なし・未記録' }).click()
  await page.waitForFunction(() => document.querySelector('[data-testid="customer-row"]')?.getAttribute('data-number') === '2002')
  await page.getByTestId('filter-consent').click()
  await page.locator('.n-base-select-option', { hasText: '同意：すべて' }).click()
  await page.getByTestId('filter-tag').click()
  await page.locator('.n-base-select-option', { hasText: '年金受取' }).click()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 1)
  await page.waitForTimeout(300)
  await ui.shot('customers-filtered-ja.png')

  // Removing the tag from the card.
  await page.getByTestId('card-tag-年金受取').locator('.n-tag__close').click()
  await page.getByTestId('card-tag-年金受取').waitFor({ state: 'detached' })

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
