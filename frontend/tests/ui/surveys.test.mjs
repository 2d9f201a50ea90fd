// End-to-end UI test of surveys: staff build a survey with skip logic, open
// it and send it to a simulated customer; the customer answers in the
// sandbox phone panel with quick replies, multiple-choice toggles and the
// datetime picker; the results show a chart per question.
//
// Runs the real dev bridge (Go) serving the built frontend, drives Debian's
// Chromium through playwright-core, and saves screenshots for review.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/surveys.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-surveys-' })

/** Fills the nth question card. */
async function fillQuestion(page, n, text, labels) {
  const card = page.getByTestId('survey-question').nth(n)
  await card.getByTestId('question-text').locator('textarea').fill(text)
  for (let i = 0; i < (labels?.length ?? 0); i++) {
    const choices = card.getByTestId('survey-choice')
    if ((await choices.count()) <= i) await card.getByTestId('choice-add').click()
    await choices.nth(i).getByTestId('choice-label').locator('input').fill(labels[i])
  }
  return card
}

async function chooseOption(page, select, label) {
  await select.click()
  await page.locator('.n-base-select-option:visible').filter({ hasText: label }).first().click()
}

async function addQuestion(page, typeLabel) {
  await chooseOption(page, page.getByTestId('add-type'), typeLabel)
  await page.getByTestId('question-add').click()
}

test('a survey is built, answered in the sandbox phone and charted', async () => {
  const { page, pageErrors } = ui
  await signInFirstAdmin(ui)

  // The builder: Japanese by default, skip logic on 「ない」.
  await page.getByTestId('nav-surveys').click()
  await page.getByTestId('surveys-view').waitFor()
  await page.getByTestId('survey-name').locator('input').fill('資産運用アンケート')
  await page.getByTestId('survey-intro').locator('textarea').fill('いつもご利用ありがとうございます。3問のアンケートにご協力ください。')
  const q1 = await fillQuestion(page, 0, '資産運用に関心はありますか？', ['ある', 'ない'])
  await addQuestion(page, '複数選ぶ')
  await fillQuestion(page, 1, '関心のある商品をお選びください', ['投資信託', 'NISA', '保険'])
  await addQuestion(page, '日付')
  await fillQuestion(page, 2, 'ご来店のご希望日は？')
  await chooseOption(page, q1.getByTestId('survey-choice').nth(1).getByTestId('choice-next'), '質問3へ進む')
  await page.getByTestId('survey-save').click()
  await page.locator('[data-testid="survey-item"][data-name="資産運用アンケート"]').waitFor()
  await page.getByTestId('survey-open').click()
  await page.getByTestId('survey-status').filter({ hasText: '回答受付中' }).waitFor()
  await ui.shot('surveys-builder-ja.png')

  // A simulated customer says hello (the conversation appears), then staff
  // send the survey to them.
  await page.getByTestId('nav-inbox').click()
  const phone = page.getByTestId('phone-panel')
  const who = phone.getByTestId('phone-customer').first()
  await who.waitFor({ state: 'visible' })
  const name = await who.getAttribute('data-name')
  await who.click()
  await phone.getByTestId('phone-input').fill('こんにちは')
  await phone.getByTestId('phone-send').click()
  await phone.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: 'こんにちは' }).first().waitFor()

  // Staff send it from the conversation (the inbox's side panel).
  await page.getByTestId('conversation-item').filter({ hasText: name }).click()
  const side = page.getByTestId('conversation-send-survey')
  await chooseOption(page, side.locator('.n-select'), '資産運用アンケート')
  await side.getByRole('button', { name: '送信' }).click()
  await page.locator('.n-message').filter({ hasText: 'アンケートを送りました' }).waitFor()

  // The customer answers on the phone: a quick reply, two toggles and
  // 回答する, then the date picker.
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: '資産運用に関心' }).first().waitFor()
  await phone.locator('[data-testid="phone-quick-reply"][data-label="ある"]').click()
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: '関心のある商品' }).first().waitFor()
  await phone.locator('[data-testid="phone-quick-reply"][data-label="投資信託"]').click()
  await phone.locator('[data-testid="phone-message"]').filter({ hasText: '選択中：投資信託' }).first().waitFor()
  await phone.locator('[data-testid="phone-quick-reply"][data-label="NISA"]').click()
  await phone.locator('[data-testid="phone-message"]').filter({ hasText: '選択中：投資信託、NISA' }).first().waitFor()
  await page.waitForFunction(() => !document.querySelector('[data-testid="phone-quick-reply"]')?.disabled)
  await ui.shot('surveys-phone-multi-ja.png')
  await phone.locator('[data-testid="phone-quick-reply"][data-label="回答する"]').click()
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: 'ご来店のご希望日' }).first().waitFor()
  await phone.locator('[data-testid="phone-quick-reply"][data-label="日付を選ぶ"]').click()
  await phone.getByTestId('phone-date-input').fill('2026-12-01')
  await phone.getByTestId('phone-date-ok').click()
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: 'ご回答ありがとうございました' }).first().waitFor()
  await ui.shot('surveys-phone-answered-ja.png')
  // Nothing left to tap once the survey is done.
  assert.equal(await phone.getByTestId('phone-quick-reply').count(), 0)

  // Results: one run, completed, a chart per choice question.
  await page.getByTestId('nav-surveys').click()
  await page.locator('.n-tabs-tab').filter({ hasText: '集計結果' }).click()
  const results = page.getByTestId('survey-results')
  await results.waitFor()
  assert.equal(await results.getByTestId('kpi-started').innerText(), '1')
  assert.equal(await results.getByTestId('kpi-completed').innerText(), '1')
  assert.equal(await results.getByTestId('kpi-rate').innerText(), '100%')
  assert.equal(await results.getByTestId('kpi-rejected').innerText(), '0')
  assert.equal(await results.getByTestId('result-chart-q1').getAttribute('data-values'), '1,0')
  assert.equal(await results.getByTestId('result-chart-q2').getAttribute('data-values'), '1,1,0')
  assert.equal(await results.getByTestId('result-chart-q3').getAttribute('data-values'), '1')
  await page.waitForTimeout(400) // the charts' canvas
  await ui.shot('surveys-results-ja.png')

  // The segment builder selects on answers (the simulated friend is not a
  // customer, so none match; the Go side accepts the condition).
  await page.getByTestId('nav-segments').click()
  await page.getByTestId('segments-view').waitFor()
  await page.getByTestId('add-condition').first().click()
  const row = page.getByTestId('segment-cond-row').first()
  await chooseOption(page, row.getByTestId('cond-kind'), 'アンケート回答')
  await chooseOption(page, row.getByTestId('cond-survey'), '資産運用アンケート')
  await chooseOption(page, row.getByTestId('cond-question'), '質問1')
  await chooseOption(page, row.getByTestId('cond-survey-cmp'), '回答が次と一致')
  await chooseOption(page, row.getByTestId('cond-survey-value'), 'ある')
  await page.locator('[data-testid="segment-counts"][data-total="0"]').waitFor()
  assert.equal(await page.getByTestId('segment-count-error').count(), 0)
  await page.waitForTimeout(300)
  await ui.shot('surveys-segment-condition-ja.png')

  // The questions are frozen once answered.
  await page.getByTestId('nav-surveys').click()
  await page.locator('.n-tabs-tab').filter({ hasText: '質問の作成' }).click()
  await page.getByTestId('survey-frozen').waitFor()
  assert.deepEqual(pageErrors, [])
})

test('typing into the builder while the survey list still loads keeps what was typed', async () => {
  const { page, pageErrors } = ui
  // The list answers slowly (a loaded PC); the builder is already there.
  await page.getByTestId('nav-inbox').click()
  await page.route('**/api/call/Surveys', async (route) => {
    await new Promise((r) => setTimeout(r, 1500))
    await route.continue()
  })
  await page.getByTestId('nav-surveys').click()
  await page.getByTestId('survey-name').locator('input').fill('窓口アンケート（入力中）')
  // The list arrives (with the survey of the test above) ...
  await page.locator('[data-testid="survey-item"][data-name="資産運用アンケート"]').waitFor()
  await page.waitForTimeout(300)
  // ... and does not replace the new survey being typed.
  assert.equal(await page.getByTestId('survey-name').locator('input').inputValue(), '窓口アンケート（入力中）')
  await page.unroute('**/api/call/Surveys')
  assert.deepEqual(pageErrors, [])
})
