// Issue 19 item 6 on the inbox settings: a keyword rule and the business
// hours name every wrong field by its visible label (the Go side's
// autoreply paths), mark it red with the reason, list it in the summary and
// focus the first; an untouched editor shows nothing; what was typed stays.
// On main before this change: one toast (「入力内容を確認してください」), no
// field marked. At 1366x768 in Japanese, with an English pass.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-formsc3-' })

async function markedFields(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-field-error="true"]')].map((el) => ({
      field: el.getAttribute('data-field'),
      feedback: el.querySelector('.n-form-item-feedback-wrapper')?.textContent?.trim() ?? '',
    })),
  )
}

test('inbox settings: a keyword rule and the business hours name, mark and focus their wrong fields', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)
  await page.getByTestId('nav-inbox-settings').click()
  await page.getByTestId('inbox-settings-view').waitFor()

  // A new rule nobody typed into marks nothing.
  await page.getByTestId('rule-new').click()
  const editor = page.getByTestId('rule-editor')
  await editor.waitFor()
  assert.deepEqual(await markedFields(page), [], 'an untouched rule marks nothing')
  assert.equal(await editor.getByTestId('field-error-summary').count(), 0)

  // Saved with a keyword of spaces and no reply: both named, the keyword focused.
  await page.getByTestId('rule-keyword').fill('   ')
  await page.getByTestId('rule-save').click()
  await editor.locator('[data-field="reply"][data-field-error="true"]').waitFor()
  const marked = await markedFields(page)
  assert.deepEqual(marked.map((f) => f.field).sort(), ['keyword', 'reply'])
  assert.ok(marked.every((f) => f.feedback === '入力してください。'), JSON.stringify(marked))
  const summary = editor.getByTestId('field-error-summary')
  assert.match(await summary.innerText(), /キーワード：入力してください。/)
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'keyword')
  assert.equal(await page.getByTestId('toast-error').count(), 0, 'no vague toast beside the marked fields')
  await ui.shot('forms-c3-rule-ja.png')

  // Typing fixes them; the rule saves.
  await page.getByTestId('rule-keyword').fill('営業時間')
  await page.getByTestId('rule-reply').fill('平日 9:00〜15:00 です。')
  await page.waitForFunction(() => !document.querySelector('[data-testid="rule-editor"] [data-field-error="true"]'))
  await page.getByTestId('rule-save').click()
  await page.getByTestId('rule-item').filter({ hasText: '営業時間' }).waitFor()

  // Business hours: Monday closes before it opens, the away text is empty
  // while the away reply is on.
  const hours = page.getByTestId('hours-section')
  await page.getByTestId('hours-open-1').fill('15:00')
  await page.getByTestId('hours-close-1').fill('09:00')
  await page.getByTestId('away-text').fill('')
  if ((await page.getByTestId('away-enabled').getAttribute('aria-checked')) !== 'true') await page.getByTestId('away-enabled').click()
  await page.getByTestId('hours-save').click()
  await hours.locator('[data-field="week.1"][data-field-error="true"]').waitFor()
  const hmarked = await markedFields(page)
  assert.deepEqual(hmarked.map((f) => f.field).sort(), ['awayText', 'week.1'])
  const hsum = await hours.getByTestId('field-error-summary').innerText()
  assert.match(hsum, /月曜日（終了）：終わりが始まりより前になっています。/)
  assert.match(hsum, /時間外の返信文：入力してください。/)
  assert.equal(await page.getByTestId('hours-open-1').inputValue(), '15:00', 'what was typed stays')
  await ui.shot('forms-c3-hours-ja.png')

  // English: the same marks, every word from the catalog.
  await page.getByTestId('lang-en').click()
  await page.getByTestId('hours-save').click()
  await hours.locator('[data-field="week.1"][data-field-error="true"]').waitFor()
  const en = await hours.getByTestId('field-error-summary').innerText()
  assert.doesNotMatch(en, /[\u3040-\u30ff]/, 'no Japanese left in the English list')
  await ui.shot('forms-c3-hours-en.png')
  await page.getByTestId('lang-ja').click()
  assert.deepEqual(pageErrors, [])
})
