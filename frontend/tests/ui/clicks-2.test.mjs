// Tracked links beyond campaigns (issue 20): a date reminder. The reminder
// editor lists the LINE text's links with the same track / do-not-track
// choice as campaigns (the terms link marked 「計測しない」); once approved
// and switched on, the scheduler sends 山田 花子 her birthday reminder (at
// the next minute or two, so the test waits up to three minutes) with a
// link of her own (the terms link as written); she opens it (the sandbox's
// loopback link host redirects); her customer card and conversation name
// the reminder (「リマインド「…」のリンクを開きました」), and the
// conversation's copy of the reminder shows the link as written, never a
// token. One English pass of the card.
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/clicks-2.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, trackedLink, advanceClock, conversationOf, sentTo, signInFirstAdmin, pickImportFile, chooseOwnPassword, call, mustCall, signIn, choose, settle, openLink } from './harness.mjs'

/** Today in Japan as the importer reads a birth date (born 1980). */
function birthdayToday() {
  const d = new Date(Date.now() + 9 * 3600_000)
  return `1980/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`
}
/**
 * A send time in Japan at the next whole minute at least 90 s away: after
 * the rule is switched on (a rule switched on after today's time waits for
 * the next day), soon enough to wait for. (Within two minutes of midnight
 * Japan time the birthday would be tomorrow's: not run then.)
 */
function soon() {
  const d = new Date(Math.ceil((Date.now() + 9 * 3600_000 + 90_000) / 60_000) * 60_000)
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
}
const CSV =
  '顧客番号,氏名,フリガナ,生年月日,店番,担当者,LINE同意\n' +
  `8201,山田 花子,ヤマダ ハナコ,${birthdayToday()},001,田中,同意\n` +
  '8202,佐藤 健一,サトウ ケンイチ,1980/01/01,001,田中,同意\n'
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-clicks2-', pickFile: { name: 'customers.csv', contents: CSV } })

const RULE = 'お誕生日のご案内'
const TARGET = 'https://www.example.jp/birthday/gift'
const TERMS = 'https://www.example.jp/terms'
const TAG = '記念品に関心'

test('a tracked reminder link: the editor choice, the click named by the reminder on the card and in the conversation', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await pickImportFile(page)
  await page.waitForFunction(() => !document.querySelector('[data-testid="import-next"]')?.disabled)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
  // Link the simulated friend 山田 花子 to her customer record.
  const sim = (await mustCall(page, 'SandboxCustomers')).find((s) => s.displayName === '山田 花子')
  assert.ok(sim)
  await mustCall(page, 'SandboxSend', sim.userId, 'こんにちは')
  const conv = await conversationOf(page, sim.userId)
  const cust = (await mustCall(page, 'Customers', { query: '8201', limit: 5, offset: 0 })).customers.find((c) => c.customerNo === '8201')
  await mustCall(page, 'LinkConversation', conv.id, cust.id, 'none')

  // The reminder editor: the LINE text's links, each with its choice.
  await page.getByTestId('nav-automations').click()
  await page.getByTestId('automations-view').waitFor()
  await page.getByTestId('automation-new').click()
  const editor = page.getByTestId('automation-editor')
  await editor.waitFor()
  await page.getByTestId('kind-date').click()
  await page.getByTestId('automation-name').locator('input').fill(RULE)
  await choose(page, page.getByTestId('automation-field'), '誕生日')
  await editor.getByText('当日', { exact: true }).click()
  await page.getByTestId('automation-at').locator('input').fill(soon())
  // LINE only (no email fallback to write).
  await editor.locator('.n-checkbox').filter({ has: page.getByText('メール', { exact: true }) }).click()
  await page.getByTestId('automation-line-text').locator('textarea').fill(`{氏名} 様\nお誕生日おめでとうございます。記念品のご案内: ${TARGET}\n規定: ${TERMS}`)
  const tracking = editor.getByTestId('link-tracking')
  await tracking.waitFor()
  assert.match(await tracking.innerText(), /お客さまごとに異なる URL/)
  const target = tracking.locator(`[data-testid="link-choice"][data-url="${TARGET}"]`)
  const terms = tracking.locator(`[data-testid="link-choice"][data-url="${TERMS}"]`)
  await target.filter({ hasText: '計測する' }).waitFor()
  await terms.getByTestId('link-track').click()
  await terms.filter({ hasText: '計測しない（そのまま送る）' }).waitFor()
  // Who clicks gets a tag (item 3): the field, and what it does, said.
  await page.getByTestId('automation-click-tag').locator('input').fill(TAG)
  assert.match(await editor.innerText(), /計測するリンクを初めて開いたお客さまに、このタグを一度だけ付けます/)
  await tracking.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks2-reminder-editor-ja.png')
  await page.getByTestId('automation-save').click()
  await page.locator('[data-testid="automation-detail"][data-approved="false"]').waitFor()
  const created = (await mustCall(page, 'Automations')).find((r) => r.name === RULE)
  assert.deepEqual(created.spec.content.untracked, [TERMS], 'the choice is saved with the reminder')
  assert.equal(created.spec.content.clickTag, TAG)

  // Another staff member approves it and switches it on.
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: 'approver initial 9' })
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'suzuki', 'approver initial 9')
  await chooseOwnPassword(page, 'approver initial 9', 'approver passphrase 9')
  await page.getByTestId('nav-automations').waitFor()
  await mustCall(page, 'ApproveAutomation', created.id, created.version)
  await mustCall(page, 'ActivateAutomation', created.id)

  // The scheduler's first pass after that time sends it: a link of her
  // own. The app's clock moves past the send time (at most 150 s ahead)
  // instead of the test waiting for it.
  await advanceClock(ui, 180)
  const sent = await sentTo(page, sim.userId, 'お誕生日おめでとう')
  assert.ok(sent.text.includes(TERMS) && !sent.text.includes(TARGET), sent.text)
  const link = trackedLink(sent.text)
  assert.deepEqual(await openLink(link), { status: 302, location: TARGET })

  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'tanaka', 'correct horse battery 1')
  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await page.locator('[data-testid="customer-row"][data-number="8201"]').click()
  const click = page.getByTestId('card-click')
  await click.waitFor()
  assert.equal(await click.count(), 1)
  assert.match(await click.innerText(), new RegExp(`リマインド「${RULE}」のリンクを開きました`))
  assert.match(await click.innerText(), /www\.example\.jp\/birthday\/gift · 1回/)
  // The click tagged her; 佐藤 健一 (no click) has no tag.
  assert.match(await page.getByTestId('card-tags').innerText(), new RegExp(TAG))
  await click.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks2-reminder-card-ja.png')

  const audit = (await mustCall(page, 'AuditEntries', { action: 'customer.tag_add', limit: 10 })).entries
  assert.equal(audit.length, 1, JSON.stringify(audit))
  assert.equal(audit[0].actor, 'system')
  assert.equal(audit[0].detail.tag, TAG)
  assert.equal(audit[0].detail.clickedIn, RULE)

  // The conversation: the quiet line names the reminder; the copy of the
  // reminder shows the link as written.
  await page.getByRole('button', { name: '会話を開く' }).click()
  const line = page.getByTestId('system-line').filter({ hasText: 'のリンクを開きました' })
  await line.waitFor()
  assert.match(await line.innerText(), new RegExp(`山田 花子さんがリマインド「${RULE}」のリンクを開きました（www\\.example\\.jp/birthday/gift）`))
  const pane = page.getByTestId('conversation-pane')
  const copy = pane.getByText('お誕生日おめでとうございます', { exact: false }).first()
  await copy.waitFor()
  const copyText = await copy.innerText()
  assert.ok(copyText.includes(TARGET) && !copyText.includes('/c/sandbox/'), copyText)
  await settle(page)
  await ui.shot('clicks2-reminder-conversation-ja.png')

  // English: the card names the reminder in English.
  await page.getByTestId('lang-en').click()
  await page.getByTestId('nav-customers').click()
  await page.locator('[data-testid="customer-row"][data-number="8201"]').click()
  const en = page.getByTestId('card-click')
  await en.filter({ hasText: `Opened the link in the reminder “${RULE}”` }).waitFor()
  assert.doesNotMatch(await en.innerText(), /開きました|回|リマインド/)
  await en.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks2-reminder-card-en.png')
})
