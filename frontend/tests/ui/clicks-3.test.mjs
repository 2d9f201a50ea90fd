// Tracked links in welcome steps (issue 20): the welcome step editor lists
// the step's links with the same track / do-not-track choice as reminders
// (the terms link marked 「計測しない」). Once approved and switched on, a
// new friend (only a LINE user, not a customer) gets step 1 with a link of
// their own (the terms link as written); they open it (the sandbox's
// loopback link host redirects); the conversation's quiet line names the
// welcome series (「あいさつメッセージ「…」のリンクを開きました」); linked to a
// customer, the customer card names it too. Then a 1:1 reply: the composer
// offers per link to track it (not tracked by default, said plainly), the
// ticked link goes as her own, her click is a quiet line naming the staff
// member's reply. One English pass of the card.
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/clicks-3.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, trackedLink, conversationOf, sentTo, signInFirstAdmin, importCustomers, chooseOwnPassword, mustCall, signIn, settle, openLink } from './harness.mjs'

const CSV = '顧客番号,氏名,フリガナ,生年月日,店番,担当者,LINE同意\n8301,高橋 美咲,タカハシ ミサキ,1985/04/02,001,田中,同意\n'
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-clicks3-', pickFile: { name: 'customers.csv', contents: CSV } })

const RULE = '友だち追加のごあいさつ'
const GUIDE = 'https://www.example.jp/welcome/guide'
const TERMS = 'https://www.example.jp/terms'

test('a tracked welcome-step link: the step editor choice, the click named by the welcome series', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await importCustomers(page)

  // The welcome editor: one step, at once, with two links.
  await page.getByTestId('nav-automations').click()
  await page.getByTestId('automations-view').waitFor()
  await page.getByTestId('automation-new').click()
  const editor = page.getByTestId('automation-editor')
  await editor.waitFor()
  await page.getByTestId('kind-welcome').click()
  await page.getByTestId('automation-name').locator('input').fill(RULE)
  const steps = editor.getByTestId('welcome-step')
  while ((await steps.count()) > 1) await steps.nth(1).getByRole('button', { name: '削除' }).click()
  await steps.first().getByTestId('welcome-step-text').locator('textarea').fill(`友だち追加ありがとうございます。\nはじめてのご案内: ${GUIDE}\n規定: ${TERMS}`)
  const tracking = steps.first().getByTestId('link-tracking')
  await tracking.waitFor()
  assert.match(await tracking.innerText(), /お客さまごとに異なる URL/)
  const guide = tracking.locator(`[data-testid="link-choice"][data-url="${GUIDE}"]`)
  const terms = tracking.locator(`[data-testid="link-choice"][data-url="${TERMS}"]`)
  await guide.filter({ hasText: '計測する' }).waitFor()
  await terms.getByTestId('link-track').click()
  await terms.filter({ hasText: '計測しない（そのまま送る）' }).waitFor()
  await tracking.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks3-welcome-editor-ja.png')
  await page.getByTestId('automation-save').click()
  await page.locator('[data-testid="automation-detail"][data-approved="false"]').waitFor()
  const created = (await mustCall(page, 'Automations')).find((r) => r.name === RULE)
  assert.deepEqual(created.spec.steps[0].untracked, [TERMS], 'the step keeps its choice')

  // Another staff member approves it and switches it on.
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: 'approver initial 9' })
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'suzuki', 'approver initial 9')
  await chooseOwnPassword(page, 'approver initial 9', 'approver passphrase 9')
  await page.getByTestId('nav-automations').waitFor()
  await mustCall(page, 'ApproveAutomation', created.id, created.version)
  await mustCall(page, 'ActivateAutomation', created.id)

  // A new friend (not a customer): the scheduler's next pass sends step 1
  // with a link of their own.
  const friend = await mustCall(page, 'SandboxNewFriend', '高橋 美咲')
  const sent = await sentTo(page, friend.userId, '友だち追加ありがとう', ui)
  assert.ok(sent.text.includes(TERMS) && !sent.text.includes(GUIDE), sent.text)
  const link = trackedLink(sent.text)
  assert.deepEqual(await openLink(link), { status: 302, location: GUIDE })

  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'tanaka', 'correct horse battery 1')
  await page.getByTestId('nav-customers').waitFor()
  // The click was made for the LINE user; linked to her customer record
  // afterwards, the card names the welcome series.
  const conv = await conversationOf(page, friend.userId)
  const cust = (await mustCall(page, 'Customers', { query: '8301', limit: 5, offset: 0 })).customers.find((c) => c.customerNo === '8301')
  await mustCall(page, 'LinkConversation', conv.id, cust.id, 'none')
  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await page.locator('[data-testid="customer-row"][data-number="8301"]').click()
  const click = page.getByTestId('card-click')
  await click.waitFor({ timeout: 30000 })
  assert.match(await click.innerText(), new RegExp(`あいさつメッセージ「${RULE}」のリンクを開きました`))
  await click.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks3-welcome-card-ja.png')

  // The conversation: the quiet line names the welcome series; the copy
  // of the step shows the link as written.
  await page.getByRole('button', { name: '会話を開く' }).click()
  const line = page.getByTestId('system-line').filter({ hasText: 'のリンクを開きました' })
  await line.waitFor()
  assert.match(await line.innerText(), new RegExp(`高橋 美咲さんがあいさつメッセージ「${RULE}」のリンクを開きました（www\\.example\\.jp/welcome/guide）`))
  const pane = page.getByTestId('conversation-pane')
  const copy = pane.getByText('はじめてのご案内', { exact: false }).first()
  await copy.waitFor()
  const copyText = await copy.innerText()
  assert.ok(copyText.includes(GUIDE) && !copyText.includes('/c/sandbox/'), copyText)
  await settle(page)
  await ui.shot('clicks3-welcome-conversation-ja.png')

  // A 1:1 reply (issue 20 item 2): its links go as written unless the
  // clerk ticks one, and the composer says so; the ticked link is hers
  // alone, the other as written; her click is a quiet line naming the
  // staff member's reply.
  const FORM = 'https://www.example.jp/forms/address'
  const FAQ = 'https://www.example.jp/faq'
  await page.getByTestId('composer-input').fill(`住所変更はこちらからどうぞ ${FORM}\nよくある質問: ${FAQ}`)
  const replyLinks = page.getByTestId('composer-links')
  await replyLinks.waitFor()
  assert.match(await page.getByTestId('composer-links-hint').innerText(), /返信のリンクは計測しません（書いたとおりに送ります）/)
  const form = replyLinks.locator(`[data-testid="composer-link"][data-url="${FORM}"]`)
  await replyLinks.locator(`[data-testid="composer-link"][data-url="${FAQ}"]`).filter({ hasText: '計測しない（そのまま送る）' }).waitFor()
  await form.filter({ hasText: '計測しない（そのまま送る）' }).waitFor()
  await form.getByTestId('composer-link-track').click()
  await form.filter({ hasText: '計測する' }).waitFor()
  await settle(page)
  await ui.shot('clicks3-reply-composer-ja.png')
  await page.getByTestId('composer-send').click()
  const replied = await sentTo(page, friend.userId, '住所変更はこちら')
  assert.ok(replied.text.includes(FAQ) && !replied.text.includes(FORM), replied.text)
  const replyLink = trackedLink(replied.text)
  assert.deepEqual(await openLink(replyLink), { status: 302, location: FORM })
  const replyLine = page.getByTestId('system-line').filter({ hasText: '返信のリンクを開きました' })
  await replyLine.waitFor({ timeout: 30000 })
  assert.match(await replyLine.innerText(), /高橋 美咲さんが田中 支店長さんの返信のリンクを開きました（www\.example\.jp\/forms\/address）/)
  const replyCopy = pane.getByText('住所変更はこちら', { exact: false }).first()
  assert.ok((await replyCopy.innerText()).includes(FORM), 'the conversation shows the link as written')
  await replyLine.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks3-reply-click-ja.png')

  await page.getByTestId('lang-en').click()
  await page.getByTestId('nav-customers').click()
  await page.locator('[data-testid="customer-row"][data-number="8301"]').click()
  const en = page.getByTestId('card-click')
  await en.filter({ hasText: `Opened the link in the welcome message “${RULE}”` }).waitFor()
  await en.filter({ hasText: 'Opened the link in 田中 支店長’s reply' }).waitFor()
  assert.doesNotMatch((await en.allInnerTexts()).join('\n'), /開きました|回|あいさつメッセージ|返信/)
  await settle(page)
  await ui.shot('clicks3-welcome-card-en.png')

  // English: the composer's choice and what it means; the click line.
  await page.getByRole('button', { name: 'Open conversation' }).click()
  await page.getByTestId('composer-input').fill(`See ${FAQ}`)
  await page.getByTestId('composer-links').filter({ hasText: 'Not tracked (sent as written)' }).waitFor()
  const enLinks = await page.getByTestId('composer-links').innerText()
  assert.match(enLinks, /Links in a reply are not tracked/)
  assert.doesNotMatch(enLinks, /[ぁ-んァ-ン一-龯]/)
  await page.getByTestId('system-line').filter({ hasText: 'opened the link in 田中 支店長’s reply' }).waitFor()
  await settle(page)
  await ui.shot('clicks3-reply-composer-en.png')
})
