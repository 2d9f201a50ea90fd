// Web forms, second slice (issue 21): the designer's sections and display
// conditions at 1366×768. A 見出し (section) is added and made to show
// only for an earlier choice answer; saving it with no question picked
// names 「見出し 2: 表示の条件」 (the server's rule); picked, it is saved,
// the detail shows the outline with the section and its condition, and
// the designer reopens with the condition as saved. A birth-date and a
// postal-code question are offered and listed. One English pass.
// (The page's sections and confirmation step at 375×667 are tested end to
// end in internal/forms TestPhoneEndToEnd.)
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/webforms-sections.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, choose, settle } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-webforms-sections-' })
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/

test('web forms: sections shown on an earlier answer', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await page.getByTestId('nav-webforms').click()
  await page.getByTestId('webforms-view').waitFor()
  await page.getByTestId('webform-new').click()
  const editor = page.getByTestId('webform-editor')
  await editor.getByTestId('webform-title').fill('ローン事前相談')
  const qs = editor.getByTestId('webform-question')
  // 1: the choice that decides.
  await qs.nth(0).getByTestId('webform-q-label').fill('ご相談の目的')
  await choose(page, qs.nth(0).getByTestId('webform-q-type'), '1 つ選ぶ')
  await qs.nth(0).getByTestId('webform-q-choices').fill('資産運用\n住宅ローン')
  // 2: a section, shown only for 住宅ローン (not picked yet).
  await editor.getByTestId('webform-add-section').click()
  assert.equal(await qs.nth(1).locator('legend').innerText(), '見出し 2')
  await qs.nth(1).getByTestId('webform-q-label').fill('住宅ローンについて')
  await qs.nth(1).getByTestId('webform-q-help').fill('住宅ローンのご相談の方だけにお伺いします。')
  assert.equal(await qs.nth(1).getByTestId('webform-q-required').count(), 0, 'a heading is not answered, so not required')
  await qs.nth(1).getByTestId('webform-q-conditional').click()
  // 3: a required question inside it.
  await editor.getByTestId('webform-add-question').click()
  await qs.nth(2).getByTestId('webform-q-label').fill('現在のお借入先')
  await qs.nth(2).getByTestId('webform-q-required').click()
  // 4, 5: a birth date (西暦 or 和暦) and an address found from its postal code.
  await editor.getByTestId('webform-add-question').click()
  await qs.nth(3).getByTestId('webform-q-label').fill('生年月日')
  await choose(page, qs.nth(3).getByTestId('webform-q-type'), '生年月日（西暦・和暦どちらでも）')
  await editor.getByTestId('webform-add-question').click()
  await qs.nth(4).getByTestId('webform-q-label').fill('ご住所')
  await choose(page, qs.nth(4).getByTestId('webform-q-type'), '郵便番号と住所')
  await editor.getByTestId('webform-save').click()
  const summary = editor.locator('[data-testid="field-error-summary"]')
  await summary.waitFor()
  assert.match(await summary.innerText(), /見出し 2: 表示の条件/)
  await settle(page)
  await ui.shot('webforms-sections-error-ja.png')

  await choose(page, qs.nth(1).getByTestId('webform-q-cond-source'), '質問 1: ご相談の目的')
  await qs.nth(1).getByTestId('webform-q-cond-values').getByText('住宅ローン', { exact: true }).click()
  await settle(page)
  await ui.shot('webforms-sections-editor-ja.png')
  await editor.getByTestId('webform-save').click()
  const detail = page.getByTestId('webform-detail')
  await detail.waitFor()
  const outline = await detail.getByTestId('webform-outline').innerText()
  assert.match(outline, /住宅ローンについて\s*条件付き: ご相談の目的 が 住宅ローン のとき/)
  assert.match(outline, /現在のお借入先/)
  assert.match(outline, /生年月日\s*（生年月日（西暦・和暦どちらでも））/)
  assert.match(outline, /ご住所\s*（郵便番号と住所（住所を自動入力））/)
  await settle(page)
  await ui.shot('webforms-sections-detail-ja.png')

  // Reopened: the condition as saved.
  await detail.getByTestId('webform-edit').click()
  await editor.waitFor()
  assert.match(await qs.nth(1).getByTestId('webform-q-cond-source').innerText(), /質問 1: ご相談の目的/)
  assert.equal(await qs.nth(1).getByTestId('webform-q-cond-values').locator('.n-checkbox--checked').innerText().then((s) => s.trim()), '住宅ローン')

  // English: the designer's own words are translated.
  await page.getByTestId('lang-en').click()
  await settle(page)
  const own = (s) => s.replace(/ローン事前相談|ご相談の目的|住宅ローンについて|住宅ローン|資産運用|現在のお借入先|生年月日|ご住所/g, '')
  const labels = await editor.locator('h3, h4, legend, label, button, .cond').allInnerTexts()
  assert.deepEqual(labels.filter((w) => JAPANESE.test(own(w))), [], 'Japanese left in the English designer')
  await ui.shot('webforms-sections-editor-en.png')
  assert.deepEqual(ui.pageErrors, [])
})
