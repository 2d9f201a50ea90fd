// End-to-end UI test of finding and linking the right customer (issue 19,
// items 10, 12 and 14's segment preview):
//  - search folds 異体字, widths and kana the same way everywhere: 高橋 finds
//    髙橋, 山崎 finds 山﨑, ＬＩＮＥ finds LINE; the inbox finds a conversation
//    by the LINE name and the linked customer's name, not only by messages;
//    the audit filter is picked by name, not typed as staff:tanaka;
//  - linking shows birth date (和暦, age) and the phone's last 4 digits,
//    warns when the LINE name is not the customer's (but not for 髙橋/高橋),
//    and records how the customer consented, behind the confirmation;
//  - the segment preview says which product and date matched.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/search.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin, pickImportFile } from './harness.mjs'

// The simulator's friends are 山田 花子, 佐藤 健一, 鈴木 美咲 and 高橋 誠.
const CUSTOMERS =
  '顧客番号,氏名,フリガナ,生年月日,携帯電話,店番\n' +
  '5001,高橋 一郎,タカハシ イチロウ,1960/1/2,090-1111-0001,001\n' +
  '5002,髙橋 誠,タカハシ マコト,1985/6/7,090-1111-0002,001\n' +
  '5003,髙橋 三郎,ﾀｶﾊｼ ｻﾌﾞﾛｳ,1970/3/4,,002\n' +
  '5004,高橋 四郎,たかはし しろう,1990/8/9,090-1111-0004,002\n' +
  '5005,山﨑 花子,ヤマサキ ハナコ,1975/5/5,090-2222-0005,001\n' +
  '5006,佐藤 健一,サトウ ケンイチ,1980/4/1,090-3333-1234,001\n' +
  '5007,佐藤 健一,サトウ ケンイチ,1955/12/24,03-3333-9876,002\n' +
  '5008,鈴木 一郎,スズキ イチロウ,1968/2/2,090-4444-0008,001\n'
const CONTRACTS =
  '顧客番号,商品種別,商品コード,口座番号,開設日,満期日,状態\n' +
  '5001,定期預金,201,1000001,2022/1/15,2027/01/15,契約中\n' +
  '5001,普通預金,101,1000002,2000/4/1,,契約中\n' +
  '5008,住宅ローン,501,1000003,2015/6/1,2045/06/01,契約中\n'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-search-', pickFile: { name: 'customers.csv', contents: CUSTOMERS } })

async function runWizard(page) {
  await page.waitForFunction(() => !document.querySelector('[data-testid="import-next"]')?.disabled)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-step-mapping').waitFor()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
}

async function sendFromPhone(page, name, text) {
  const phone = page.getByTestId('phone-panel')
  const who = phone.locator(`[data-testid="phone-customer"][data-name="${name}"]`)
  await who.waitFor({ state: 'visible' })
  await who.click()
  await phone.getByTestId('phone-input').fill(text)
  await phone.getByTestId('phone-send').click()
  await phone.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: text }).first().waitFor()
}

/** Searches the customers list and waits for exactly these customer
 * numbers (a stale answer of the query before never passes). */
async function expectCustomers(page, query, numbers) {
  await page.getByTestId('customer-search').fill(query)
  const want = [...numbers].sort().join(',')
  await page
    .waitForFunction(
      (w) => [...document.querySelectorAll('[data-testid="customer-row"]')].map((r) => r.getAttribute('data-number')).sort().join(',') === w,
      want,
      { timeout: 10_000 },
    )
    .catch(async () => {
      const got = await page.getByTestId('customer-row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-number')))
      assert.fail(`search ${query}: got ${got}, want ${want}`)
    })
}

/** Searches the inbox and waits until the list shows exactly these names,
 * in this order; returns the items' text. */
async function expectConversations(page, query, names) {
  await page.getByTestId('inbox-search').fill(query)
  await page.keyboard.press('Enter')
  const ok = await page
    .waitForFunction(
      (w) => {
        const items = [...document.querySelectorAll('[data-testid="conversation-item"]')]
        return items.length === w.length && w.every((n, i) => items[i].innerText.includes(n))
      },
      names,
      { timeout: 10_000 },
    )
    .then(() => true)
    .catch(() => false)
  const items = await page.getByTestId('conversation-item').evaluateAll((rs) => rs.map((r) => r.innerText))
  assert.ok(ok, `inbox search ${query}: got ${JSON.stringify(items)}, want ${names}`)
  return items
}

test('search folds 異体字, widths and kana across customers, conversations and the audit filter', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 }) // the common branch PC
  await signInFirstAdmin(ui)
  await pickImportFile(page)
  await runWizard(page)
  const contractsPath = join(ui.filesDir, '契約.csv')
  writeFileSync(contractsPath, CONTRACTS)
  await page.getByRole('button', { name: '別のファイルを取り込む' }).click()
  await page.getByTestId('import-kind-contracts').click()
  await page.getByTestId('import-path').fill(contractsPath)
  await runWizard(page)

  // Customers: 高橋 finds all four 高橋/髙橋, 山崎 finds 山﨑, half-width kana and
  // hiragana find the same people.
  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await expectCustomers(page, '高橋', ['5001', '5002', '5003', '5004'])
  await page.mouse.move(0, 0)
  await ui.shot('search-customers-takahashi-ja.png')
  await expectCustomers(page, '髙橋', ['5001', '5002', '5003', '5004'])
  await expectCustomers(page, '山崎', ['5005'])
  await expectCustomers(page, 'たかはし さぶろう', ['5003'])
  await expectCustomers(page, 'ｻﾄｳｹﾝｲﾁ', ['5006', '5007'])

  // Inbox: conversations by name and by full-width text.
  await page.getByTestId('nav-inbox').click()
  await sendFromPhone(page, '山田 花子', 'ＬＩＮＥで口座の相談をしたいです')
  await sendFromPhone(page, '佐藤 健一', 'こんにちは')
  await sendFromPhone(page, '鈴木 美咲', '佐藤さんの件でご連絡しました')
  await page.getByTestId('conversation-item').filter({ hasText: '鈴木 美咲' }).waitFor()
  // 佐藤 finds the conversation with 佐藤 健一 (by name) and the one that mentions him.
  let items = await expectConversations(page, '佐藤', ['佐藤 健一', '鈴木 美咲'])
  assert.match(items[0], /名前が一致/)
  await page.getByTestId('conversation-item').first().getByTestId('search-name-match').waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('search-inbox-name-ja.png')
  await expectConversations(page, 'line', ['山田 花子'])
  await page.getByTestId('conversation-item').first().getByTestId('search-snippet').filter({ hasText: 'ＬＩＮＥで口座' }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('search-inbox-fullwidth-ja.png')
  await page.getByTestId('inbox-search').fill('')
  await page.keyboard.press('Enter')

  // Audit: the actor is picked by name from a list, not typed as an ID.
  await page.getByTestId('nav-audit').click()
  await page.getByTestId('audit-view').waitFor()
  await page.getByTestId('audit-actor').click()
  const option = page.locator('.n-base-select-option', { hasText: '田中 支店長（tanaka）' })
  await option.waitFor()
  await page.waitForTimeout(300)
  await ui.shot('search-audit-actor-ja.png')
  await option.click()
  await page.getByTestId('audit-search').click()
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="audit-row"] td:nth-child(3)')]
    return rows.length > 0 && rows.every((td) => td.textContent.trim() === '田中 支店長')
  })
  assert.doesNotMatch(await page.getByTestId('audit-actor').innerText(), /staff:/)
  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})

test('linking shows birth date and phone, warns on a different name, records consent', async () => {
  const { page, pageErrors } = ui
  await page.getByTestId('nav-inbox').click()
  await page.getByTestId('conversation-item').filter({ hasText: '佐藤 健一' }).click()
  const card = page.getByTestId('conversation-customer')
  await page.locator('[data-testid="conversation-customer"][data-linked="false"]').waitFor()
  await card.getByTestId('link-search-open').click()
  const search = page.getByTestId('link-search-dialog')

  // Two 佐藤 健一: told apart by birth date (和暦, age) and phone's last 4.
  await search.getByTestId('link-search-input').fill('佐藤')
  const a = search.locator('[data-testid="link-search-result"][data-number="5006"]')
  const b = search.locator('[data-testid="link-search-result"][data-number="5007"]')
  await a.waitFor()
  await b.waitFor()
  assert.match(await a.getByTestId('link-result-birth').innerText(), /^昭和55年4月1日（\d+歳）$/)
  assert.equal(await a.getByTestId('link-result-phone').innerText(), '電話 末尾 1234')
  assert.match(await b.getByTestId('link-result-birth').innerText(), /^昭和30年12月24日（\d+歳）$/)
  assert.equal(await b.getByTestId('link-result-phone').innerText(), '電話 末尾 9876')
  assert.doesNotMatch(await search.innerText(), /090-3333-1234|03-3333-9876/, 'the whole number is not shown')
  assert.equal(await a.getByTestId('link-name-differs').count(), 0)
  await page.waitForTimeout(300)
  await ui.shot('link-results-ja.png')

  // A customer of another name is flagged, in the list and the confirmation.
  await search.getByTestId('link-search-input').fill('鈴木')
  const other = search.locator('[data-testid="link-search-result"][data-number="5008"]')
  await other.getByTestId('link-name-differs').waitFor()
  await other.getByTestId('link-search-select').click()
  await search.getByTestId('link-confirm-name-differs').waitFor()
  assert.match(await search.getByTestId('link-confirm-name-differs').innerText(), /LINE の名前「佐藤 健一」は、この顧客の氏名・フリガナと一致しません/)
  await page.waitForTimeout(300)
  await ui.shot('link-confirm-differs-ja.png')
  await search.getByRole('button', { name: '戻る' }).click()

  // The right one: no warning; consent must be chosen, then is recorded.
  await search.getByTestId('link-search-input').fill('5006')
  await a.getByTestId('link-search-select').click()
  const chosen = search.getByTestId('link-confirm-customer')
  await chosen.waitFor()
  assert.match(await chosen.innerText(), /昭和55年4月1日（\d+歳）/)
  assert.match(await chosen.innerText(), /電話 末尾 1234/)
  assert.equal(await search.getByTestId('link-confirm-name-differs').count(), 0)
  await search.getByTestId('link-confirm').click()
  await search.getByTestId('link-consent-error').filter({ hasText: '同意をどう確認したかを選んでください。' }).waitFor()
  await page.waitForTimeout(300)
  await ui.shot('link-confirm-consent-required-ja.png')
  await search.getByTestId('link-consent-written').click()
  await page.waitForTimeout(200)
  await ui.shot('link-confirm-consent-ja.png')
  await search.getByTestId('link-confirm').click()
  await search.waitFor({ state: 'detached' })
  await page.locator('[data-testid="conversation-customer"][data-linked="true"]').waitFor()

  // Linked, the conversation is found by the customer's kana too.
  await expectConversations(page, 'さとう けんいち', ['佐藤 健一'])
  await page.getByTestId('inbox-search').fill('')
  await page.keyboard.press('Enter')

  // The customer's card has LINE consent from 書面.
  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customer-search').fill('5006')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 1)
  await page.getByTestId('customer-row').first().click()
  const consents = page.getByTestId('card-consents')
  await consents.waitFor()
  assert.match(await consents.innerText(), /LINE[^\n]*\s*同意あり\s*書面/)

  // 髙橋 誠 for the LINE friend 高橋 誠: 異体字 is not a mismatch.
  await page.getByTestId('nav-inbox').click()
  await sendFromPhone(page, '高橋 誠', '住所変更の手続きについて')
  await page.getByTestId('conversation-item').filter({ hasText: '高橋 誠' }).click()
  await page.locator('[data-testid="conversation-customer"][data-linked="false"]').waitFor()
  await card.getByTestId('link-search-open').click()
  await search.getByTestId('link-search-input').fill('高橋 誠')
  const makoto = search.locator('[data-testid="link-search-result"][data-number="5002"]')
  await makoto.waitFor()
  assert.equal(await makoto.getByTestId('link-name-differs').count(), 0, '髙橋 and 高橋 are the same name')
  await ui.shot('link-results-variant-ja.png')

  // English: no untranslated strings in the dialog.
  await search.getByRole('button', { name: 'キャンセル' }).click()
  await search.waitFor({ state: 'detached' })
  await page.getByTestId('lang-en').click()
  await card.getByTestId('link-search-open').click()
  await search.getByTestId('link-search-input').fill('高橋 誠')
  await makoto.getByTestId('link-search-select').click()
  await search.getByTestId('link-confirm').click()
  await search.getByTestId('link-consent-error').waitFor()
  const en = await search.innerText()
  assert.match(en, /Born: \d+ Jun 1985 \(Showa 60, age \d+\)/)
  assert.match(en, /Phone ending 0002/)
  assert.match(en, /Agreed in writing/)
  assert.doesNotMatch(en, /linking\.|errors\.|生年月日|電話|同意|連携/, 'untranslated text in the English dialog')
  await page.waitForTimeout(300)
  await ui.shot('link-confirm-en.png')
  await search.getByRole('button', { name: 'Back' }).click()
  await search.getByRole('button', { name: 'Cancel' }).click()
  await page.getByTestId('lang-ja').click()
  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})

test('the segment preview shows the matched product and date', async () => {
  const { page, pageErrors } = ui
  const rules = {
    op: 'or',
    children: [
      { cond: { kind: 'product', productType: '定期預金', productStatus: 'active' } },
      { cond: { kind: 'product', productType: '住宅ローン', productStatus: 'active' } },
    ],
  }
  const saved = await page.evaluate(async (r) => {
    const res = await fetch('/api/call/SaveSegment', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ id: 0, name: '定期預金・住宅ローン', rules: r, createdBy: '', updatedBy: '', updatedAt: 0 }]),
    })
    return { ok: res.ok, body: await res.json().catch(() => null) }
  }, rules)
  assert.ok(saved.ok, `SaveSegment: ${JSON.stringify(saved.body)}`)
  await page.getByTestId('nav-segments').click()
  await page.getByTestId('segments-view').waitFor()
  await page.locator('[data-testid="saved-segment"][data-name="定期預金・住宅ローン"]').click()
  const r1 = page.locator('[data-testid="preview-row"][data-number="5001"]')
  const r8 = page.locator('[data-testid="preview-row"][data-number="5008"]')
  await r1.waitFor()
  await r1.getByTestId('preview-matched').filter({ hasText: '定期預金 2027/01/15 満期' }).waitFor()
  assert.doesNotMatch(await r1.getByTestId('preview-matched').innerText(), /普通預金/, 'only the product that met a condition')
  assert.equal((await r8.getByTestId('preview-matched').innerText()).trim(), '住宅ローン 2045/06/01 満期')
  await page.mouse.move(0, 0)
  await page.waitForTimeout(300)
  await ui.shot('segment-preview-matched-ja.png')
  await page.getByTestId('lang-en').click()
  await r1.getByTestId('preview-matched').filter({ hasText: '定期預金, matures 2027/01/15' }).waitFor()
  await ui.shot('segment-preview-matched-en.png')
  await page.getByTestId('lang-ja').click()
  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
