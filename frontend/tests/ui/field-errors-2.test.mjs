// End-to-end UI test of issue 19 item 6 on the automation editor: a new
// rule nobody has touched shows no error; a save names every wrong field
// (the name, a welcome step's time and text, the email subject), marks it
// red, and focuses and scrolls to the first. Then the survey builder: a
// question's text and a choice's wording, named by their question number.
//   TSUNAGU_DEVSERVER=... node --test frontend/tests/ui/field-errors-2.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-fielderrors2-' })

/** The wrong fields the page shows: form items marked red, with their feedback. */
async function markedFields(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-field-error="true"]')].map((el) => ({
      field: el.getAttribute('data-field'),
      feedback: el.querySelector('.n-form-item-feedback-wrapper')?.textContent?.trim() ?? '',
      red: !!el.querySelector('.n-input--error-status, .n-base-selection--error-status'),
    })),
  )
}

/** The data-field of the form item holding the focused input. */
async function focusedField(page) {
  return page.evaluate(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') ?? null)
}

test('automation editor: wrong fields named, marked, focused; nothing on an untouched form', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)

  await page.getByTestId('nav-automations').click()
  await page.getByTestId('automations-view').waitFor()
  await page.getByTestId('automation-new').click()
  const editor = page.getByTestId('automation-editor')
  await editor.waitFor()
  await page.waitForTimeout(300)
  assert.deepEqual(await markedFields(page), [], 'an untouched form marks no field')
  assert.equal(await page.getByTestId('field-error-summary').count(), 0)

  // Saving without a name: the form's own check marks the name, no call.
  await editor.getByTestId('automation-save').click()
  await page.locator('[data-field="name"][data-field-error="true"]').waitFor()
  assert.deepEqual((await markedFields(page)).map((f) => f.field), ['name'])
  assert.equal((await markedFields(page))[0].feedback, '入力してください。')
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'name')

  // A date reminder by LINE and email with no email subject or text.
  await editor.getByTestId('automation-name').locator('input').fill('満期のご案内')
  assert.deepEqual(await markedFields(page), [], 'the fixed name is no longer marked')
  let saved = page.waitForResponse((r) => r.url().includes('/api/call/CreateAutomation'))
  await editor.getByTestId('automation-save').click()
  let body = await (await saved).json()
  const fields = body.fields.map((f) => f.field)
  assert.ok(fields.includes('spec.content.email.subject') && fields.includes('spec.content.email.text'), JSON.stringify(body))
  await page.locator('[data-field="spec.content.email.subject"][data-field-error="true"]').waitFor()
  const marked = (await markedFields(page)).map((f) => f.field)
  assert.ok(marked.includes('spec.content.email.subject') && marked.includes('spec.content.email.text'), JSON.stringify(marked))
  const summary = await editor.getByTestId('field-error-summary').innerText()
  assert.match(summary, /メールの件名/)
  assert.match(summary, /メールの本文/)
  assert.doesNotMatch(summary, /spec\.|content\./, 'no paths shown to the clerk')
  await ui.shot('field-errors-automation-date-ja.png')

  // A welcome series: step 2 has a bad time and no text, step 3 uses {支店}.
  await editor.getByTestId('kind-welcome').click()
  const texts = editor.getByTestId('welcome-step-text')
  await texts.nth(0).locator('textarea').fill('{氏名}様、友だち追加ありがとうございます。')
  await editor.getByTestId('welcome-step-at').nth(1).locator('input').fill('25:00')
  await texts.nth(2).locator('textarea').fill('{支店}からのお知らせです。')
  await page.evaluate(() => window.scrollTo(0, 0))
  saved = page.waitForResponse((r) => r.url().includes('/api/call/CreateAutomation'))
  await editor.getByTestId('automation-save').click()
  body = await (await saved).json()
  assert.deepEqual(
    body.fields.map((f) => f.field),
    ['spec.steps.1.at', 'spec.steps.1.messages.0.text', 'spec.steps.2.messages'],
  )
  await page.locator('[data-field="spec.steps.1.at"][data-field-error="true"]').waitFor()
  const w = await markedFields(page)
  assert.deepEqual(w.map((f) => f.field), ['spec.steps.1.at', 'spec.steps.1.messages', 'spec.steps.2.messages'])
  assert.ok(w.every((f) => f.red && f.feedback), JSON.stringify(w))
  const ws = await editor.getByTestId('field-error-summary').innerText()
  assert.match(ws, /ステップ 2 の送信時刻/)
  assert.match(ws, /ステップ 2 のメッセージ/)
  assert.match(ws, /ステップ 3 のメッセージ/)
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'spec.steps.1.at')
  assert.equal(await focusedField(page), 'spec.steps.1.at')
  await ui.shot('field-errors-automation-welcome-ja.png')

  // Fixed, it saves.
  await editor.getByTestId('welcome-step-at').nth(1).locator('input').fill('12:00')
  await texts.nth(1).locator('textarea').fill('ご来店をお待ちしております。')
  await texts.nth(2).locator('textarea').fill('{氏名}様、いつもありがとうございます。')
  saved = page.waitForResponse((r) => r.url().includes('/api/call/CreateAutomation'))
  await editor.getByTestId('automation-save').click()
  assert.equal((await saved).status(), 200)
  assert.deepEqual(pageErrors, [])
})

test('survey builder: the question text and a choice wording named and marked', async () => {
  const { page, pageErrors } = ui // signed in by the test above
  await page.getByTestId('nav-surveys').click()
  await page.getByTestId('surveys-view').waitFor()
  await page.waitForTimeout(300)
  assert.deepEqual(await markedFields(page), [], 'an untouched builder marks no field')
  assert.equal(await page.getByTestId('field-error-summary').count(), 0)

  // A name, but question 1 has no text and its choice 2 no wording.
  await page.getByTestId('survey-name').locator('input').fill('ご来店アンケート')
  const card = page.getByTestId('survey-question').nth(0)
  await card.getByTestId('survey-choice').nth(1).getByTestId('choice-label').locator('input').fill('')
  const saved = page.waitForResponse((r) => r.url().includes('/api/call/SaveSurvey'))
  await page.getByTestId('survey-save').click()
  const body = await (await saved).json()
  assert.ok(body.fields, JSON.stringify(body))
  assert.deepEqual(body.fields.map((f) => f.field), ['questions.0.text', 'questions.0.choices.1.label'])
  await page.locator('[data-field="questions.0.text"][data-field-error="true"]').waitFor()
  const marked = await markedFields(page)
  assert.deepEqual(marked.map((f) => f.field), ['questions.0.text', 'questions.0.choices.1.label'])
  assert.ok(marked.every((f) => f.red && f.feedback === '入力してください。'), JSON.stringify(marked))
  const summary = await page.getByTestId('field-error-summary').innerText()
  assert.match(summary, /質問 1 の質問文/)
  assert.match(summary, /質問 1 の選択肢 2 の文言/)
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'questions.0.text')
  await ui.shot('field-errors-survey-ja.png')

  // Fixed, it saves.
  await card.getByTestId('question-text').locator('textarea').fill('ご来店の目的は？')
  await card.getByTestId('survey-choice').nth(1).getByTestId('choice-label').locator('input').fill('いいえ')
  assert.deepEqual(await markedFields(page), [], 'fixed fields are no longer marked')
  await page.getByTestId('survey-save').click()
  await page.locator('[data-testid="survey-item"][data-name="ご来店アンケート"]').waitFor()
  assert.deepEqual(pageErrors, [])
})
