// End-to-end UI test of the inbox's daily work: an administrator sets a
// canned reply and a keyword auto-reply; simulated customers write in; the
// clerk answers with the canned reply, leaves a note, assigns the
// conversation, filters and searches the list. Screenshots in ja (and one
// in en) go to test-artifacts/ui/.
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/inbox.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, submitFirstRun } from './harness.mjs'

const ADMIN_PASSWORD = 'ui-test admin passphrase'
const ADMIN_NAME = '山田 太郎'
const CANNED_TITLE = '住所変更のご案内'
const CANNED_BODY = '{氏名}様\n担当の{担当者}です。住所変更の書類をご自宅にお送りします。'
const NOTE = '転居届の用紙を郵送予定。本人確認書類の写しが必要。'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-inbox-' })

async function selectOption(page, testid, label) {
  await page.getByTestId(testid).click()
  await page.locator('.n-base-select-option').filter({ hasText: label }).first().click()
}

test('canned reply, note, assignment, filters and search (ja, then en)', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1480, height: 900 })
  await page.goto(`${ui.baseUrl}/`)
  await submitFirstRun(page, { login: 'admin', name: ADMIN_NAME, password: ADMIN_PASSWORD })
  await page.getByTestId('recovery-code').waitFor()
  await page.getByTestId('recovery-stored').click()
  await page.getByTestId('recovery-done').click()

  // The administrator sets a canned reply and a keyword auto-reply.
  await page.getByTestId('nav-inbox-settings').click()
  const settings = page.getByTestId('inbox-settings-view')
  await settings.waitFor()
  await settings.getByTestId('canned-new').click()
  await settings.getByTestId('canned-title').fill(CANNED_TITLE)
  await settings.getByTestId('canned-body').fill(CANNED_BODY)
  await settings.getByTestId('canned-save').click()
  await settings.getByTestId('canned-item').filter({ hasText: CANNED_TITLE }).waitFor()
  await settings.getByTestId('rule-new').click()
  await settings.getByTestId('rule-keyword').fill('営業時間')
  await settings.getByTestId('rule-reply').fill('{氏名}様、窓口の営業時間は平日9時〜15時です。')
  await settings.getByTestId('rule-save').click()
  await settings.getByTestId('rule-item').filter({ hasText: '営業時間' }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('inbox-settings-ja.png')

  // Two simulated customers write in.
  await page.getByTestId('nav-inbox').click()
  const phone = page.getByTestId('phone-panel')
  const customers = phone.getByTestId('phone-customer')
  await customers.first().waitFor()
  const first = await customers.nth(0).getAttribute('data-name')
  const second = await customers.nth(1).getAttribute('data-name')
  const say = async (i, text) => {
    await customers.nth(i).click()
    await phone.getByTestId('phone-input').fill(text)
    await phone.getByTestId('phone-send').click()
    await phone.getByTestId('phone-message').filter({ hasText: text }).first().waitFor()
  }
  await say(0, '引っ越したので住所変更の手続きを教えてください')
  await say(1, '定期預金の満期が近いので、継続について相談したいです')
  // The keyword auto-reply answers by itself, exactly once.
  await say(1, '営業時間')
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: '窓口の営業時間は平日9時〜15時です。' }).waitFor()

  const list = page.getByTestId('conversation-list')
  const item1 = list.getByTestId('conversation-item').filter({ hasText: first })
  const item2 = list.getByTestId('conversation-item').filter({ hasText: second })
  await item1.waitFor()
  await item2.waitFor()

  // Open the first conversation and answer with the canned reply: {氏名}
  // becomes the LINE name (not linked yet), {担当者} the signed-in clerk.
  await item1.click()
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('message-bubble').filter({ hasText: '住所変更の手続き' }).waitFor()
  await pane.getByTestId('composer-canned').click()
  await page.getByTestId('canned-option').filter({ hasText: CANNED_TITLE }).click()
  const expected = `${first}様\n担当の${ADMIN_NAME}です。住所変更の書類をご自宅にお送りします。`
  await page.waitForFunction((v) => document.querySelector('[data-testid="composer-input"]')?.value === v, expected)
  await pane.getByTestId('composer-send').click()
  await pane.locator('[data-testid="message-bubble"][data-direction="out"][data-status="sent"]').filter({ hasText: '住所変更の書類' }).waitFor()
  await customers.nth(0).click()
  await phone.locator('[data-testid="phone-message"][data-from="official"]').filter({ hasText: `${first}様` }).waitFor()

  // An internal note: shown to staff, never sent.
  await pane.getByTestId('side-tab-notes').click()
  await pane.getByTestId('note-input').fill(NOTE)
  await pane.getByTestId('note-save').click()
  await pane.getByTestId('note').filter({ hasText: NOTE }).waitFor()
  assert.match(await pane.getByTestId('note').first().innerText(), new RegExp(ADMIN_NAME))
  assert.equal(await phone.getByTestId('phone-message').filter({ hasText: '転居届' }).count(), 0, 'the note reached the customer')

  // Assign it to oneself and mark it pending.
  await selectOption(page, 'conversation-assignee', ADMIN_NAME)
  await item1.getByTestId('assignee-tag').filter({ hasText: ADMIN_NAME }).waitFor()
  await selectOption(page, 'conversation-status', '保留中')
  await item1.getByTestId('status-tag').filter({ hasText: '保留中' }).waitFor()
  await page.waitForFunction(() => [...document.querySelectorAll('.n-base-select-menu')].every((e) => e.offsetParent === null))
  await page.mouse.move(0, 0)
  await ui.shot('inbox-conversation-ja.png')

  // Filters: mine, then pending, then unassigned.
  await page.getByTestId('inbox-filter-assignee').selectOption('mine')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 1)
  assert.match(await list.getByTestId('conversation-item').innerText(), new RegExp(first))
  await page.getByTestId('inbox-filter-assignee').selectOption('unassigned')
  await item2.waitFor()
  assert.equal(await item1.count(), 0)
  await page.getByTestId('inbox-filter-assignee').selectOption('')
  await page.getByTestId('inbox-filter-status').selectOption('pending')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 1)
  await page.getByTestId('inbox-filter-status').selectOption('')
  await page.getByTestId('inbox-filter-link').selectOption('unlinked')
  await item1.waitFor()
  await item2.waitFor()
  await page.getByTestId('inbox-filter-link').selectOption('')

  // Search: "/" focuses it; a Japanese word inside a longer sentence finds
  // its conversation, with a snippet; a 2-character word works too.
  await list.focus()
  await page.keyboard.press('/')
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'inbox-search')
  await page.keyboard.type('定期預金')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length === 1)
  await item2.getByTestId('search-snippet').filter({ hasText: '定期預金の満期' }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('inbox-search-ja.png')
  await page.getByTestId('inbox-search').fill('満期')
  await page.keyboard.press('Enter')
  await item2.getByTestId('search-snippet').filter({ hasText: '満期' }).waitFor()
  await page.getByTestId('inbox-search').fill('外貨預金')
  await page.keyboard.press('Enter')
  await page.getByTestId('inbox-no-match').waitFor()
  await page.getByTestId('inbox-clear-filters').click()
  await item1.waitFor()
  await item2.waitFor()

  // Keyboard: End, k and j move through the list and open conversations.
  // Both are read first, so the order holds still while moving.
  await item2.click()
  await item2.getByTestId('unread-badge').waitFor({ state: 'detached' })
  await item1.click()
  await list.focus()
  const selectedIs = (i) =>
    page.waitForFunction(
      (i) => document.querySelectorAll('[data-testid="conversation-item"]')[i]?.getAttribute('aria-selected') === 'true',
      i,
    )
  await page.keyboard.press('End')
  await selectedIs(1)
  await page.keyboard.press('k')
  await selectedIs(0)
  await page.keyboard.press('j')
  await selectedIs(1)
  await page.keyboard.press('Enter')
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'reply-input', 'Enter goes to the reply box')

  // One screenshot in English.
  await item1.click()
  await page.getByTestId('lang-en').click()
  await pane.getByTestId('side-tab-notes').filter({ hasText: 'Notes' }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('inbox-conversation-en.png')
  await page.getByTestId('lang-ja').click()

  for (const v of [NOTE, ADMIN_PASSWORD, '定期預金の満期']) {
    assert.ok(!ui.serverOutput.includes(v), `the devserver log contains ${JSON.stringify(v)}`)
  }
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
})
