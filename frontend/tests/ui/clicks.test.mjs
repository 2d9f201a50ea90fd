// Per-person link tracking (issue 20), in the sandbox: the campaign editor
// lists the LINE message's links with a track / do-not-track choice and says
// plainly what tracking does; the privacy link is marked "do not track".
// After the send, each simulated friend's message carries a link of their
// own (the untracked link as written); 山田 花子 opens hers (the sandbox's
// loopback link host redirects to the real page); her customer card and her
// conversation show 「…のリンクを開きました」, 佐藤 健一's card shows none, the
// campaign shows the per-link figures. One English pass of the card.
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/clicks.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, trackedLink, conversationOf, signInFirstAdmin, pickImportFile, chooseOwnPassword, call, mustCall, signIn, settle, openLink } from './harness.mjs'

const CSV =
  '顧客番号,氏名,フリガナ,店番,担当者,LINE同意\n' + '8101,山田 花子,ヤマダ ハナコ,001,田中,同意\n' + '8102,佐藤 健一,サトウ ケンイチ,001,田中,同意\n'
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-clicks-', pickFile: { name: 'customers.csv', contents: CSV } })

const CAMPAIGN = '金利上乗せキャンペーン'
const TARGET = 'https://www.example.jp/teiki/campaign'
const PRIVACY = 'https://www.example.jp/privacy'

test('a tracked campaign link: the editor choice, the click on the customer card and in the conversation', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await pickImportFile(page)
  await page.waitForFunction(() => !document.querySelector('[data-testid="import-next"]')?.disabled)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
  // Link the two simulated friends: they write, staff link the conversations.
  const sims = await mustCall(page, 'SandboxCustomers')
  const friend = {}
  for (const [name, no] of [
    ['山田 花子', '8101'],
    ['佐藤 健一', '8102'],
  ]) {
    const sim = sims.find((s) => s.displayName === name)
    assert.ok(sim, name)
    friend[name] = sim
    await mustCall(page, 'SandboxSend', sim.userId, 'こんにちは')
    const conv = await conversationOf(page, sim.userId)
    const cust = (await mustCall(page, 'Customers', { query: no, limit: 5, offset: 0 })).customers.find((c) => c.customerNo === no)
    await mustCall(page, 'LinkConversation', conv.id, cust.id, 'none')
    friend[name].customerId = cust.id
    friend[name].conversationId = conv.id
  }

  // The editor: the links of the message, each with its choice, explained.
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('campaigns-view').waitFor()
  await page.getByTestId('campaign-new').click()
  const editor = page.getByTestId('campaign-editor')
  await page.getByTestId('campaign-name').fill(CAMPAIGN)
  await page.getByTestId('line-text').first().fill(`{氏名} 様\n定期預金の金利上乗せのご案内です。詳しくは ${TARGET} をご覧ください。\n個人情報の取扱い: ${PRIVACY}`)
  const tracking = editor.getByTestId('link-tracking')
  await tracking.waitFor()
  assert.match(await tracking.innerText(), /お客さまごとに異なる URL/)
  assert.match(await tracking.innerText(), /お名前や LINE の ID は渡りません/)
  const privacy = tracking.locator(`[data-testid="link-choice"][data-url="${PRIVACY}"]`)
  const target = tracking.locator(`[data-testid="link-choice"][data-url="${TARGET}"]`)
  await target.filter({ hasText: '計測する' }).waitFor()
  await privacy.filter({ hasText: '計測する' }).waitFor()
  await privacy.getByTestId('link-track').click()
  await privacy.filter({ hasText: '計測しない（そのまま送る）' }).waitFor()
  assert.match(await target.innerText(), /計測する$/)
  await tracking.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks-editor-choice-ja.png')
  await editor.getByTestId('campaign-save').click()
  await page.locator('[data-testid="campaign-detail"][data-status="draft"]').waitFor()
  const [created] = await mustCall(page, 'Campaigns')
  assert.deepEqual(created.content.untracked, [PRIVACY], 'the choice is saved with the campaign')

  // Another staff member approves and sends it.
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: 'approver initial 9' })
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'suzuki', 'approver initial 9')
  await chooseOwnPassword(page, 'approver initial 9', 'approver passphrase 9')
  await page.getByTestId('nav-campaigns').waitFor()
  await mustCall(page, 'ApproveCampaign', created.id, created.version)
  await mustCall(page, 'SendCampaign', created.id)
  for (let i = 0; i < 150; i++) {
    const c = await mustCall(page, 'Campaign', created.id)
    if (c.status === 'done') break
    await page.waitForTimeout(200)
  }
  assert.equal((await mustCall(page, 'Campaign', created.id)).status, 'done')

  // Each friend got a link of their own; the privacy link as written.
  const linkOf = async (name) => {
    const chat = await mustCall(page, 'SandboxChat', friend[name].userId)
    const m = chat.find((x) => x.from === 'official' && x.text.includes('金利上乗せ'))
    assert.ok(m, `${name} got the campaign: ${JSON.stringify(chat)}`)
    assert.ok(m.text.includes(PRIVACY) && !m.text.includes(TARGET), m.text)
    const url = trackedLink(m.text)
    return url
  }
  const hanako = await linkOf('山田 花子')
  const kenichi = await linkOf('佐藤 健一')
  assert.notEqual(hanako, kenichi)
  // 山田 花子 opens hers: redirected to the page.
  assert.deepEqual(await openLink(hanako), { status: 302, location: TARGET })
  // An unknown token: the neutral page, nothing recorded.
  const unknown = await openLink(hanako.slice(0, -32) + 'A'.repeat(32))
  assert.equal(unknown.status, 200)

  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'tanaka', 'correct horse battery 1')
  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await page.locator('[data-testid="customer-row"][data-number="8101"]').click()
  const click = page.getByTestId('card-click')
  await click.waitFor()
  assert.equal(await click.count(), 1)
  assert.match(await click.innerText(), new RegExp(`「${CAMPAIGN}」のリンクを開きました`))
  assert.match(await click.innerText(), /www\.example\.jp\/teiki\/campaign · 1回/)
  await click.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks-customer-card-ja.png')
  await page.locator('[data-testid="customer-row"][data-number="8102"]').click()
  await page.getByTestId('card-clicks-none').waitFor()
  assert.equal(await page.getByTestId('card-click').count(), 0)

  // The conversation: a quiet line.
  await page.locator('[data-testid="customer-row"][data-number="8101"]').click()
  await page.getByTestId('card-click').waitFor()
  await page.getByRole('button', { name: '会話を開く' }).click()
  const line = page.getByTestId('system-line').filter({ hasText: 'のリンクを開きました' })
  await line.waitFor()
  assert.match(await line.innerText(), new RegExp(`山田 花子さんが「${CAMPAIGN}」のリンクを開きました（www\\.example\\.jp/teiki/campaign）`))
  await settle(page)
  await ui.shot('clicks-conversation-ja.png')

  // The campaign: per link, sent to 2, opened by 1.
  await page.getByTestId('nav-campaigns').click()
  await page.locator('[data-testid="campaign-row"]').filter({ hasText: CAMPAIGN }).click()
  const row = page.getByTestId('link-clicks-row')
  await row.waitFor()
  assert.match(await row.innerText(), /www\.example\.jp\/teiki\/campaign\s+2\s+1（50%）\s+1/)

  // English: the card's words are translated.
  await page.getByTestId('lang-en').click()
  await page.getByTestId('nav-customers').click()
  await page.locator('[data-testid="customer-row"][data-number="8101"]').click()
  const en = page.getByTestId('card-click')
  await en.filter({ hasText: `Opened the link in “${CAMPAIGN}”` }).waitFor()
  assert.doesNotMatch(await en.innerText(), /開きました|回/)
  await en.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('clicks-customer-card-en.png')
})
