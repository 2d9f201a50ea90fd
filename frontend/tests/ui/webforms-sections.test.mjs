// Web forms, second slice (issue 21): the designer's sections and display
// conditions at 1366×768. A 見出し (section) is added and made to show
// only for an earlier choice answer; saving it with no question picked
// names 「見出し 2: 表示の条件」 (the server's rule); picked, it is saved,
// the detail shows the outline with the section and its condition, and
// the designer reopens with the condition as saved. A birth-date and a
// postal-code question are offered and listed. One English pass.
// Prefill (second test): a question's 「顧客情報で入力しておく」 field is
// offered only for matching types, saved and listed with the days the
// values last; from the inbox 「フォームを送る」 shows which of the linked
// customer's values would be filled before anything goes, and sending a
// form not on the relay says to publish it first (nothing sent, nothing
// audited). One English pass of the send panel.
// (The page's sections and confirmation step at 375×667, and a prefilled
// link opened by its customer and by others, are tested end to end in
// internal/forms TestPhoneEndToEnd and TestPrefillEndToEnd.)
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/webforms-sections.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, choose, settle, importCustomers, linkFriends, mustCall } from './harness.mjs'

const CSV =
  '顧客番号,氏名,フリガナ,携帯電話,郵便番号,住所,店番,担当者\n' +
  '9001,山田 花子,ヤマダ ハナコ,09012345678,100-0005,東京都千代田区丸の内1-1,001,田中\n'
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-webforms-sections-', pickFile: { name: 'customers.csv', contents: CSV } })
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
  assert.equal(await qs.nth(1).getByTestId('webform-q-name').innerText(), '見出し 2')
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

test('web forms: a question filled from the customer record, and sending it from the inbox', async () => {
  const { page } = ui
  await page.getByTestId('lang-ja').click()
  await importCustomers(page)
  await linkFriends(page, [['山田 花子', '9001']])

  // --- the designer: which customer field fills a question ---
  await page.getByTestId('nav-webforms').click()
  await page.getByTestId('webforms-view').waitFor()
  await page.getByTestId('webform-new').click()
  const editor = page.getByTestId('webform-editor')
  await editor.getByTestId('webform-title').fill('住所変更届')
  const qs = editor.getByTestId('webform-question')
  await qs.nth(0).getByTestId('webform-q-label').fill('お名前')
  assert.equal(await editor.getByTestId('webform-prefill-days').count(), 0, 'the days show once a question is filled')
  await choose(page, qs.nth(0).getByTestId('webform-q-prefill'), '氏名')
  await editor.getByTestId('webform-add-question').click()
  await qs.nth(1).getByTestId('webform-q-label').fill('新しいご住所')
  await choose(page, qs.nth(1).getByTestId('webform-q-type'), '郵便番号と住所')
  await choose(page, qs.nth(1).getByTestId('webform-q-prefill'), '郵便番号と住所')
  await editor.getByTestId('webform-add-question').click()
  await qs.nth(2).getByTestId('webform-q-label').fill('ご連絡先')
  await choose(page, qs.nth(2).getByTestId('webform-q-type'), '電話番号')
  await choose(page, qs.nth(2).getByTestId('webform-q-prefill'), '電話番号')
  await editor.getByTestId('webform-add-question').click()
  await qs.nth(3).getByTestId('webform-q-label').fill('お手続きの内容')
  await choose(page, qs.nth(3).getByTestId('webform-q-type'), '1 つ選ぶ')
  await qs.nth(3).getByTestId('webform-q-choices').fill('住所変更\n電話番号変更')
  assert.equal(await qs.nth(3).getByTestId('webform-q-prefill').count(), 0, 'a choice is never filled from the record')
  // A text question offers the name and kana only.
  await qs.nth(0).getByTestId('webform-q-prefill').click()
  const offered = await page.locator('.n-base-select-option:visible').allInnerTexts()
  assert.deepEqual(offered.map((o) => o.trim()), ['入力しない', '氏名', 'フリガナ'])
  await page.keyboard.press('Escape')
  await editor.getByTestId('webform-prefill-days').fill('14')
  await editor.getByTestId('webform-prefill-days').blur()
  await settle(page)
  await qs.nth(1).scrollIntoViewIfNeeded()
  await ui.shot('webforms-prefill-editor-ja.png')
  await editor.getByTestId('webform-save').click()
  const detail = page.getByTestId('webform-detail')
  await detail.waitFor()
  const outline = await detail.getByTestId('webform-outline').innerText()
  assert.match(outline, /お名前\s*（短い文 · 必須）\s*顧客情報で入力: 氏名/)
  assert.match(outline, /新しいご住所.*顧客情報で入力: 郵便番号と住所/)
  assert.match(outline, /ご連絡先.*顧客情報で入力: 電話番号/)
  assert.doesNotMatch(outline, /お手続きの内容.*顧客情報で入力/)
  await detail.getByTestId('webform-edit').click()
  await editor.waitFor()
  assert.match(await qs.nth(0).getByTestId('webform-q-prefill').innerText(), /氏名/)
  assert.equal(await editor.getByTestId('webform-prefill-days').inputValue(), '14')
  await editor.getByTestId('webform-cancel').click()

  // --- the inbox: what would be filled, before anything goes ---
  await page.getByTestId('nav-inbox').click()
  await page.getByTestId('conversation-item').filter({ hasText: '山田 花子' }).first().click()
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('side-tab-customer').click()
  const send = pane.getByTestId('conversation-send-form')
  await send.waitFor()
  await choose(page, send.getByTestId('send-form-pick'), '住所変更届 （未公開）')
  await send.getByTestId('send-form-next').click()
  const preview = send.getByTestId('send-form-preview')
  await preview.waitFor()
  const shown = await preview.innerText()
  assert.match(shown, /フォーム「住所変更届」を送りますか？/)
  assert.match(shown, /山田 花子 さまに、次の情報を入れたフォームのリンクを LINE で送ります。/)
  assert.match(shown, /お名前\n山田 花子/)
  assert.match(shown, /新しいご住所\n〒100-0005 東京都千代田区丸の内1-1/)
  assert.match(shown, /ご連絡先\n09012345678/)
  assert.match(shown, /このお客さまの LINE だけです。.*14 日後に消えます。/)
  await settle(page)
  await send.scrollIntoViewIfNeeded()
  await ui.shot('webforms-prefill-send-confirm-ja.png')
  await preview.getByTestId('send-form-send').click()
  const error = send.getByTestId('send-form-error')
  await error.waitFor()
  assert.equal(await error.innerText(), 'このフォームは公開されていません。「Web フォーム」画面で公開してから送ってください。')
  await preview.waitFor() // kept open: nothing lost
  await settle(page)
  await error.scrollIntoViewIfNeeded()
  await ui.shot('webforms-prefill-send-unpublished-ja.png')
  const audit = (await mustCall(page, 'AuditEntries', { action: 'form.prefill_send', limit: 5 })).entries
  assert.deepEqual(audit, [], 'nothing was sent, so nothing is audited')

  // English: the panel's own words are translated.
  await page.getByTestId('lang-en').click()
  await settle(page)
  const own = (s) => s.replace(/住所変更届|山田 花子|お名前|新しいご住所|ご連絡先|〒100-0005 東京都千代田区丸の内1-1/g, '')
  const words = await send.locator('h4, p, dt, dd, button').allInnerTexts()
  assert.deepEqual(words.filter((w) => JAPANESE.test(own(w))), [], 'Japanese left in the English send panel')
  await ui.shot('webforms-prefill-send-en.png')
  await page.getByTestId('lang-ja').click()
  assert.deepEqual(ui.pageErrors, [])
})
