// End-to-end UI test of issue 19 item 6 on the first-run form (the first
// administrator): every wrong field is named by its visible label, marked
// red with the reason, listed in the summary and focused; an untouched form
// shows nothing; a refused password stays typed. The field paths are the
// staff form's (internal/auth validate). At 1366x768, in Japanese, with an
// English pass over the same marks.
//
// On main before this change: an empty form showed one message
// (「すべての項目を入力してください。」), a refused login or password one
// general message, the password was cleared, and no field was marked.
//   TSUNAGU_DEVSERVER=... node --test frontend/tests/ui/forms-c1.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness } from './harness.mjs'

const ADMIN_PASSWORD = 'correct horse battery 1'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-formsc1-' })

/** The wrong fields the page shows: form items marked red, with their feedback. */
async function markedFields(page, within = 'body') {
  return page.evaluate(
    (sel) =>
      [...document.querySelector(sel).querySelectorAll('[data-field-error="true"]')].map((el) => ({
        field: el.getAttribute('data-field'),
        feedback: el.querySelector('.n-form-item-feedback-wrapper')?.textContent?.trim() ?? '',
        red: !!el.querySelector('.n-input--error-status, .n-base-selection--error-status'),
      })),
    within,
  )
}

const focusedField = (page) => page.evaluate(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') ?? null)

async function fill(page, { login, name, password, confirm }) {
  await page.getByTestId('firstrun-login').fill(login)
  await page.getByTestId('firstrun-name').fill(name)
  await page.getByTestId('firstrun-password').fill(password)
  await page.getByTestId('firstrun-confirm').fill(confirm)
}

test('first-run form: wrong fields named, marked, focused; nothing on an untouched form', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await page.goto(`${ui.baseUrl}/`)
  const form = page.getByTestId('firstrun-form')
  await form.waitFor()
  const calls = []
  page.on('request', (r) => {
    if (r.url().includes('/api/call/CreateFirstAdmin')) calls.push(r.url())
  })

  // An untouched form shows nothing (the password rule is a hint, not an error).
  await page.getByTestId('firstrun-login').focus()
  await page.waitForTimeout(300)
  assert.deepEqual(await markedFields(page), [], 'an untouched first-run form marks nothing')
  assert.equal(await page.getByTestId('field-error-summary').count(), 0)
  assert.match(await form.innerText(), /10 文字以上（長い文がおすすめです）/)

  // 1. Submit on the empty form: the form's own checks, no call.
  await page.getByTestId('firstrun-submit').click()
  await form.getByTestId('field-error-summary').waitFor()
  // The password's rule hint fades out before its error fades in.
  await form.locator('[data-field="password"] .n-form-item-feedback-wrapper').filter({ hasText: '入力してください。' }).waitFor()
  let marked = await markedFields(page)
  assert.deepEqual(marked.map((f) => f.field), ['login', 'displayName', 'password', 'confirm'])
  assert.ok(marked.every((f) => f.red && f.feedback === '入力してください。'), JSON.stringify(marked))
  let summary = await form.getByTestId('field-error-summary').innerText()
  assert.match(summary, /次の項目を直してください（4 件）/)
  assert.match(summary, /ログイン名：入力してください。/)
  assert.match(summary, /表示名（お客さまへの返信に表示されます）：入力してください。/)
  assert.match(summary, /パスワード：入力してください。/)
  assert.match(summary, /パスワード（確認）：入力してください。/)
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'login')
  assert.equal(calls.length, 0, 'an empty form makes no call')
  await page.mouse.move(0, 0)
  await ui.shot('forms-c1-firstrun-empty-ja.png')

  // 2. The confirmation differs: its own field, still no call.
  await fill(page, { login: 'tanaka', name: '田中 支店長', password: ADMIN_PASSWORD, confirm: 'something else 1' })
  await page.getByTestId('firstrun-submit').click()
  await form.locator('[data-field="confirm"][data-field-error="true"]').filter({ hasText: '確認用のパスワードが一致しません。' }).waitFor()
  assert.deepEqual((await markedFields(page)).map((f) => f.field), ['confirm'])
  assert.match(await form.getByTestId('field-error-summary').innerText(), /パスワード（確認）：確認用のパスワードが一致しません。/)
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'firstrun-confirm')
  assert.equal(calls.length, 0, 'a mismatch makes no call')

  // 3. The Go side's rules (the staff form's): a login with a slash, a short password.
  await fill(page, { login: 'branch/admin', name: '田中 支店長', password: 'short', confirm: 'short' })
  const created = page.waitForResponse((r) => r.url().includes('/api/call/CreateFirstAdmin'))
  await page.getByTestId('firstrun-submit').click()
  const body = await (await created).json()
  assert.deepEqual(body.fields?.map((f) => [f.field, f.code]), [['login', 'errors.fieldFormat'], ['password', 'errors.fieldTooShort']], JSON.stringify(body))
  await form.locator('[data-field="password"][data-field-error="true"] .n-form-item-feedback-wrapper').filter({ hasText: '10 文字以上にしてください。' }).waitFor()
  marked = await markedFields(page)
  assert.deepEqual(marked.map((f) => [f.field, f.feedback]), [
    ['login', '形式が正しくありません。入力例のとおりに入力してください。'],
    ['password', '10 文字以上にしてください。'],
  ])
  assert.ok(marked.every((f) => f.red), JSON.stringify(marked))
  summary = await form.getByTestId('field-error-summary').innerText()
  assert.match(summary, /ログイン名：形式が正しくありません。/)
  assert.match(summary, /パスワード：10 文字以上にしてください。/)
  assert.equal(await focusedField(page), 'login')
  assert.equal(await page.getByTestId('firstrun-error').count(), 0, 'no general message beside the marks')
  // Nothing typed is lost: the refused password is still there to fix.
  assert.equal(await page.getByTestId('firstrun-password').inputValue(), 'short')
  assert.equal(await page.getByTestId('firstrun-confirm').inputValue(), 'short')
  await page.mouse.move(0, 0)
  await ui.shot('forms-c1-firstrun-server-ja.png')

  // A fixed field is no longer marked; the other stays.
  await page.getByTestId('firstrun-login').fill('tanaka')
  assert.deepEqual((await markedFields(page)).map((f) => f.field), ['password'])

  // 4. English pass over the same marks (the form after a reload, empty).
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
  await page.reload()
  await form.waitFor()
  await page.waitForTimeout(300)
  assert.deepEqual(await markedFields(page), [], 'a reloaded, untouched form marks nothing')
  await fill(page, { login: 'branch/admin', name: '', password: 'short', confirm: 'shorter' })
  await page.getByTestId('firstrun-submit').click()
  await form.getByTestId('field-error-summary').waitFor()
  summary = await form.getByTestId('field-error-summary').innerText()
  assert.match(summary, /Please fix these fields \(2\)/)
  assert.match(summary, /: Enter a value\./)
  assert.match(summary, /The two passwords differ\./)
  const created2 = page.waitForResponse((r) => r.url().includes('/api/call/CreateFirstAdmin'))
  await page.getByTestId('firstrun-name').fill('Branch manager')
  await page.getByTestId('firstrun-confirm').fill('short')
  await page.getByTestId('firstrun-submit').click()
  await created2
  await form.locator('[data-field="password"][data-field-error="true"] .n-form-item-feedback-wrapper').filter({ hasText: 'Use at least 10 characters.' }).waitFor()
  await page.waitForTimeout(400) // the rule hint's fade-out, for the screenshot
  summary = await form.getByTestId('field-error-summary').innerText()
  assert.match(summary, /This is not in the expected form/)
  assert.match(summary, /Use at least 10 characters\./)
  assert.doesNotMatch(await form.innerText(), /[\u3040-\u30ff\u4e00-\u9fff]/, 'no Japanese left on the English form')
  await page.mouse.move(0, 0)
  await ui.shot('forms-c1-firstrun-en.png')

  // 5. Fixed, the administrator is created (the recovery code follows).
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'ja'))
  await page.reload()
  await form.waitFor()
  await fill(page, { login: 'tanaka', name: '田中 支店長', password: ADMIN_PASSWORD, confirm: ADMIN_PASSWORD })
  await page.getByTestId('firstrun-submit').click()
  await page.getByTestId('recovery-code').waitFor()
  assert.deepEqual(pageErrors, [])
})

test('customer admin panel: attribute and tag errors named, marked, focused', async () => {
  const { page, pageErrors } = ui // the administrator created by the test above
  await page.getByTestId('recovery-stored').click()
  await page.getByTestId('recovery-done').click()
  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customers-admin').click()
  const attr = page.getByTestId('attr-new-form')
  const tag = page.getByTestId('tag-new-form')
  await attr.waitFor()
  await page.waitForTimeout(300)
  assert.deepEqual(await markedFields(page), [], 'an untouched admin panel marks nothing')
  assert.equal(await page.getByTestId('field-error-summary').count(), 0)

  // 1. 追加 on the empty definition: the form's own checks, nothing sent.
  await page.getByTestId('attr-new-add').click()
  await attr.getByTestId('field-error-summary').waitFor()
  assert.deepEqual((await markedFields(page, '[data-testid="attr-new-form"]')).map((f) => [f.field, f.feedback, f.red]), [
    ['label', '入力してください。', true],
    ['key', '入力してください。', true],
  ])
  assert.equal(await focusedField(page), 'label')

  // 2. The Go side's rules: a key with a hyphen, a choice with no choices.
  await page.getByTestId('attr-new-label').fill('年収帯')
  await page.getByTestId('attr-new-key').fill('income-band')
  await page.getByTestId('attr-new-type').click()
  await page.locator('.n-base-select-option', { hasText: '選択肢' }).click()
  await page.getByTestId('attr-new-choices').fill('、、')
  const defined = page.waitForResponse((r) => r.url().includes('/api/call/DefineAttribute'))
  await page.getByTestId('attr-new-add').click()
  const body = await (await defined).json()
  assert.deepEqual(body.fields?.map((f) => [f.field, f.code]), [['key', 'errors.fieldFormat'], ['choices', 'errors.fieldRequired']], JSON.stringify(body))
  await attr.locator('[data-field="choices"][data-field-error="true"]').waitFor()
  const summary = await attr.getByTestId('field-error-summary').innerText()
  assert.match(summary, /キー：形式が正しくありません。/)
  assert.match(summary, /選択肢：入力してください。/)
  assert.equal(await focusedField(page), 'key')
  assert.equal(await page.getByTestId('attr-new-key').inputValue(), 'income-band', 'what was typed stays')
  await page.mouse.move(0, 0)
  await ui.shot('forms-c1-attribute-ja.png')

  // 3. Fixed, the attribute is added and the marks go.
  await page.getByTestId('attr-new-key').fill('income')
  await page.getByTestId('attr-new-choices').fill('〜300万、300万〜')
  await page.getByTestId('attr-new-add').click()
  await page.locator('[data-testid="admin-attributes"] tr[data-key="income"]').waitFor()
  assert.equal(await attr.getByTestId('field-error-summary').count(), 0)

  // 4. A taken tag name names the tag field, only in the tag form.
  await page.getByTestId('tag-new-name').fill('VIP')
  await page.getByTestId('tag-new-add').click()
  await page.getByTestId('admin-tags').getByText('VIP').waitFor()
  await page.getByTestId('tag-new-name').fill('ＶＩＰ')
  await page.getByTestId('tag-new-add').click()
  await tag.locator('[data-field="name"][data-field-error="true"]').filter({ hasText: '同じ名前がすでにあります' }).waitFor()
  assert.match(await tag.getByTestId('field-error-summary').innerText(), /新しいタグの名前：同じ名前がすでにあります/)
  assert.equal(await attr.getByTestId('field-error-summary').count(), 0, 'the other form stays clean')
  assert.equal(await focusedField(page), 'name')
  await page.mouse.move(0, 0)
  await ui.shot('forms-c1-tag-ja.png')

  // English pass: the same mark and summary, translated.
  await page.getByTestId('lang-en').click()
  await tag.locator('[data-field="name"][data-field-error="true"]').filter({ hasText: 'This name is already in use.' }).waitFor()
  assert.match(await tag.getByTestId('field-error-summary').innerText(), /New tag name: This name is already in use\./)
  assert.doesNotMatch(await tag.getByTestId('field-error-summary').innerText(), /[\u3040-\u30ff\u4e00-\u9fff]/)
  await page.mouse.move(0, 0)
  await ui.shot('forms-c1-tag-en.png')
  await page.getByTestId('lang-ja').click()
  assert.deepEqual(pageErrors, [])
})
