// Web forms (issue 21, first slice), the desktop's designer in the sandbox
// at 1366×768: a new form's wrong fields are named by their labels (the
// title by the screen, a question's text and choices by the server, as
// 「質問 1: 質問文」), the form is saved with a choice and a consent
// question and shown as a draft without a URL; publishing asks first,
// saying what is sent (questions and texts, nothing about customers), and
// in the sandbox (no relay) says how to enrol one instead of failing
// silently. Audited. One English pass of the designer and the detail.
// (The phone's page at 375×667 is tested end to end in
// internal/forms TestPhoneEndToEnd.)
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/webforms.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, mustCall, settle } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-webforms-' })
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/

test('web forms: designer, named errors, publish asks first, sandbox has no relay', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await page.getByTestId('nav-webforms').click()
  await page.getByTestId('webforms-view').waitFor()
  await page.getByText('まだフォームがありません').waitFor()

  // A choice question without its text or choices: the server names both.
  await page.getByTestId('webform-new').click()
  const editor = page.getByTestId('webform-editor')
  await editor.getByTestId('webform-title').fill('住所変更届')
  await editor.getByTestId('webform-q-type').click()
  await page.locator('.n-base-select-option:visible').filter({ hasText: '1 つ選ぶ' }).click()
  await editor.getByTestId('webform-save').click()
  const summary = editor.locator('[data-testid="field-error-summary"]')
  await summary.waitFor()
  const named = await summary.innerText()
  assert.match(named, /質問 1: 質問文/)
  assert.match(named, /質問 1: 選択肢/)
  await settle(page)
  await ui.shot('webforms-errors-ja.png')

  // Fixed, with a consent question: saved as a draft, no URL yet.
  await editor.getByTestId('webform-q-label').first().fill('お手続きの内容')
  await editor.getByTestId('webform-q-choices').fill('住所変更\n電話番号変更')
  await editor.getByTestId('webform-add-question').click()
  await editor.getByTestId('webform-q-label').nth(1).fill('個人情報の取扱い')
  await editor.getByTestId('webform-q-type').nth(1).click()
  await page.locator('.n-base-select-option:visible').filter({ hasText: '同意' }).click()
  await editor.getByTestId('webform-q-consent').fill('ご記入の情報はお手続きのために利用します。')
  await editor.getByTestId('webform-thanks').fill('受け付けました。')
  await editor.getByTestId('webform-save').click()
  const detail = page.getByTestId('webform-detail')
  await detail.waitFor()
  assert.match(await detail.locator('h3').innerText(), /住所変更届\s*下書き/)
  assert.equal(await detail.getByTestId('webform-url').innerText(), '公開すると URL が表示されます。')

  // Publishing asks first and says what goes to the relay.
  await detail.getByTestId('webform-publish').click()
  const dialog = page.locator('.n-dialog')
  await dialog.waitFor()
  const asked = await dialog.innerText()
  assert.match(asked, /「住所変更届」（質問 2 問）を中継サーバーに送り/)
  assert.match(asked, /お客さまの情報は送りません/)
  await settle(page)
  await ui.shot('webforms-publish-confirm-ja.png')
  await dialog.getByRole('button', { name: '公開' }).click()
  const toast = page.getByTestId('toast-error')
  await toast.waitFor()
  await dialog.waitFor({ state: 'detached' })
  assert.match(await toast.innerText(), /中継サーバーへの登録が必要です/)
  await ui.shot('webforms-no-relay-ja.png')
  assert.match(await detail.locator('h3').innerText(), /下書き/)

  const audit = (await mustCall(page, 'AuditEntries', { action: 'form.', limit: 20 })).entries
  assert.deepEqual(audit.map((e) => e.action), ['form.create'])

  // English: the designer's and the detail's own words are translated.
  await page.getByTestId('lang-en').click()
  await settle(page)
  const own = (s) => s.replace(/住所変更届|お手続きの内容|個人情報の取扱い|住所変更|電話番号変更/g, '')
  const words = await detail.locator('h3, p, small, button').allInnerTexts()
  assert.deepEqual(words.filter((w) => JAPANESE.test(own(w))), [], 'Japanese left in the English detail')
  await settle(page)
  await ui.shot('webforms-detail-en.png')
  await detail.getByTestId('webform-edit').click()
  await page.getByTestId('webform-editor').waitFor()
  // The saved form is what the designer opens with.
  assert.equal(await page.getByTestId('webform-title').inputValue(), '住所変更届')
  assert.equal(await page.getByTestId('webform-q-consent').inputValue(), 'ご記入の情報はお手続きのために利用します。')
  const labels = await page.getByTestId('webform-editor').locator('h3, h4, legend, label, button').allInnerTexts()
  assert.deepEqual(labels.filter((w) => JAPANESE.test(own(w))), [], 'Japanese left in the English designer')
  await ui.shot('webforms-editor-en.png')
  assert.deepEqual(ui.pageErrors, [])
})
