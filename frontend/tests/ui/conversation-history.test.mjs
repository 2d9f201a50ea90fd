// End-to-end UI test of the conversation as a record (issue 19, items 5
// and 8): a conversation with photos opens at its newest message once the
// photos have loaded; a message that arrives while the clerk reads further up
// leaves the view where it is and shows 「新着メッセージ n 件」, which scrolls
// down. What the account sends by itself is in the thread, marked by its
// kind (a survey sent from the inbox: アンケート「…」, its questions and
// thanks), and a tapped button shows as what it said, never its data.
// Screenshots at 1366x768 in Japanese, one in English.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/conversation-history.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-conv-history-' })

const SURVEY = '来店満足度アンケート'
const INTRO = '本日はご来店ありがとうございました。1問だけお答えください。'
const QUESTION = '本日の窓口の対応はいかがでしたか？'

/** How far the thread is from showing its newest message, in pixels. */
function gap(page) {
  return page.getByTestId('conversation-log').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)
}

/** Asserts that the thread shows its newest message within 3 s (a frame or
 * two of layout on a loaded machine); left above it, it never gets there. */
async function assertAtNewest(page, what) {
  try {
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="conversation-log"]')
      return el && el.scrollHeight - el.scrollTop - el.clientHeight < 4
    }, null, { timeout: 3_000 })
  } catch {
    assert.fail(`${what}: ${await gap(page)} px above the newest message`)
  }
}

async function chooseOption(page, select, label) {
  await select.click()
  await page.locator('.n-base-select-option:visible').filter({ hasText: label }).first().click()
}

test('a thread with photos opens at the newest message; new ones while reading show 新着', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)
  await page.getByTestId('nav-inbox').click()

  // Customer 1 sends texts and photos, the photos last; customer 2 says hello.
  const phone = page.getByTestId('phone-panel')
  const customers = phone.getByTestId('phone-customer')
  await customers.first().waitFor()
  const first = await customers.nth(0).getAttribute('data-name')
  const second = await customers.nth(1).getAttribute('data-name')
  const say = async (text) => {
    await phone.getByTestId('phone-input').fill(text)
    await phone.getByTestId('phone-send').click()
    await phone.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: text }).first().waitFor()
  }
  await customers.nth(0).click()
  for (let i = 1; i <= 8; i++) await say(`定期預金の件でご相談です（${i}）`)
  for (let i = 0; i < 3; i++) {
    await phone.getByTestId('phone-photo').click()
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="phone-message"][data-from="customer"]').length >= n, 9 + i)
  }
  await customers.nth(1).click()
  await say('こんにちは')

  // The photos are fetched in the background; wait until the inbox has them,
  // in customer 2's conversation, so that opening customer 1's is a fresh open.
  const items = page.getByTestId('conversation-item')
  await items.filter({ hasText: second }).click()
  await page.getByTestId('conversation-title').filter({ hasText: second }).waitFor()
  const pane = page.getByTestId('conversation-pane')
  await page.waitForTimeout(1500)
  await page.reload()
  await page.getByTestId('nav-inbox').click()
  await items.filter({ hasText: first }).click()
  await page.getByTestId('conversation-title').filter({ hasText: first }).waitFor()
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('[data-testid="conversation-pane"] [data-testid="message-image"]')]
    return imgs.length === 3 && imgs.every((i) => i.complete && i.naturalHeight > 0)
  }, null, { timeout: 30_000 })
  await assertAtNewest(page, 'opened')
  await page.mouse.move(0, 0)
  await ui.shot('conversation-opens-at-newest-ja.png')

  // The clerk scrolls up to read; customer 1 writes twice: the view stays,
  // the pill counts them.
  await page.getByTestId('conversation-log').evaluate((el) => {
    el.scrollTop = 0
    el.dispatchEvent(new Event('scroll'))
  })
  await customers.nth(0).click()
  await say('追加で質問があります')
  await say('金利は何％ですか？')
  const pill = pane.getByTestId('new-messages')
  await pill.filter({ hasText: '新着メッセージ 2 件' }).waitFor()
  assert.equal(await page.getByTestId('conversation-log').evaluate((el) => el.scrollTop), 0, 'the view did not move')
  await page.mouse.move(0, 0)
  await ui.shot('conversation-new-messages-pill-ja.png')
  await pill.click()
  await pill.waitFor({ state: 'detached' })
  await assertAtNewest(page, 'the pill scrolls down')
  assert.match(await pane.getByTestId('message-bubble').last().innerText(), /金利は何％ですか？/)

  // At the bottom, a new message is followed without a pill.
  await say('よろしくお願いします')
  await pane.getByTestId('message-bubble').last().filter({ hasText: 'よろしくお願いします' }).waitFor()
  await assertAtNewest(page, 'a new message while at the bottom')
  assert.equal(await pill.count(), 0)

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})

test('what the account sent is in the thread, by kind; a tapped button shows its words, not its data', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })

  // A one-question survey, opened.
  await page.getByTestId('nav-surveys').click()
  await page.getByTestId('surveys-view').waitFor()
  await page.getByTestId('survey-name').locator('input').fill(SURVEY)
  await page.getByTestId('survey-intro').locator('textarea').fill(INTRO)
  const q1 = page.getByTestId('survey-question').nth(0)
  await q1.getByTestId('question-text').locator('textarea').fill(QUESTION)
  const labels = ['満足', '不満']
  for (let i = 0; i < labels.length; i++) {
    const choices = q1.getByTestId('survey-choice')
    if ((await choices.count()) <= i) await q1.getByTestId('choice-add').click()
    await choices.nth(i).getByTestId('choice-label').locator('input').fill(labels[i])
  }
  await page.getByTestId('survey-save').click()
  await page.locator(`[data-testid="survey-item"][data-name="${SURVEY}"]`).waitFor()
  await page.getByTestId('survey-open').click()
  await page.getByTestId('survey-status').filter({ hasText: '回答受付中' }).waitFor()

  // Staff send it to customer 2 from the conversation.
  await page.getByTestId('nav-inbox').click()
  const phone = page.getByTestId('phone-panel')
  const customers = phone.getByTestId('phone-customer')
  await customers.first().waitFor()
  const second = await customers.nth(1).getAttribute('data-name')
  await page.getByTestId('conversation-item').filter({ hasText: second }).click()
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('conversation-title').filter({ hasText: second }).waitFor()
  const side = page.getByTestId('conversation-send-survey')
  await chooseOption(page, side.locator('.n-select'), SURVEY)
  await side.getByRole('button', { name: '送信' }).click()
  await page.locator('.n-message').filter({ hasText: 'アンケートを送りました' }).waitFor()

  // The invitation and the question are in the thread at once, marked as the survey's.
  const sent = pane.locator('[data-testid="message-bubble"][data-direction="out"][data-origin="survey"]')
  await sent.filter({ hasText: QUESTION }).first().waitFor()
  assert.ok((await sent.filter({ hasText: INTRO }).count()) >= 1, 'the intro is in the thread')
  assert.equal(await sent.filter({ hasText: QUESTION }).first().getByTestId('message-origin').innerText(), `アンケート「${SURVEY}」`)
  await sent.filter({ hasText: QUESTION }).first().getByTestId('delivery-sent').waitFor()

  // The customer taps 満足: the thread shows the question, the tap by its
  // label, and the thanks the survey sent.
  await customers.nth(1).click()
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: QUESTION }).first().waitFor()
  await phone.locator('[data-testid="phone-quick-reply"][data-label="満足"]').click()
  await pane.locator('[data-testid="message-bubble"][data-kind="postback"]').filter({ hasText: '［ボタン操作］ 満足' }).waitFor()
  await pane.locator('[data-testid="message-bubble"][data-direction="out"]').filter({ hasText: 'ありがとうございました' }).last().waitFor()
  assert.equal(
    await pane.locator('[data-testid="message-bubble"][data-direction="out"]').filter({ hasText: 'ありがとうございました' }).last().getAttribute('data-origin'),
    'survey',
  )

  // A button the app never registered: 「［ボタン操作］」, no raw data.
  await phone.getByTestId('phone-postback').click()
  const bubbles = pane.locator('[data-testid="message-bubble"][data-kind="postback"]')
  await bubbles.nth(1).waitFor()
  assert.equal((await bubbles.nth(1).locator('.bubble').innerText()).trim(), '［ボタン操作］')
  const text = await pane.innerText()
  assert.ok(!/action=|postback/i.test(text), `raw postback data on screen: ${text}`)
  await page.mouse.move(0, 0)
  await ui.shot('conversation-sent-by-kind-ja.png')
  // Further up: the invitation and the question, as the customer got them.
  await sent.filter({ hasText: INTRO }).first().evaluate((el) => el.scrollIntoView({ block: 'start' }))
  await ui.shot('conversation-survey-question-ja.png')

  // English: the kinds are translated.
  await page.getByTestId('lang-en').click()
  await sent.filter({ hasText: QUESTION }).first().getByTestId('message-origin').filter({ hasText: `Survey “${SURVEY}”` }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('conversation-sent-by-kind-en.png')
  await page.getByTestId('lang-ja').click()

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
