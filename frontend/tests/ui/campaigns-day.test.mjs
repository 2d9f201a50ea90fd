// A clerk's campaign day without surprises (issue 19 items 4, 7 and the
// approval part of 15), end to end through the dev bridge at 1366×768 in
// Japanese:
//   7  channels default to what is set up (here LINE only; email and SMS are
//      disabled with the reason and the way to the settings); the plan says
//      how many LINE messages it uses without jargon; a customer with an
//      email address is reported as メール未選択, not 連絡先なし; a second
//      click on 送信する neither asks again nor shows an error;
//   4  {担当者} with a customer who has no staff in charge: the plan counts
//      them, the preview shows the worst case, approval is blocked until the
//      author chooses a replacement text, and nobody receives 「担当：」;
//   15 the approver sees a badge and a notice for what waits, sends it back
//      with a required comment the author then sees, and 承認 asks first,
//      saying how many, which channels and when.
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/campaigns-day.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, pickImportFile, chooseOwnPassword, call, mustCall, signIn, importCustomers, linkFriends } from './harness.mjs'

// 9001/9002 become the simulated LINE friends 山田 花子 / 佐藤 健一; 9002 has
// no staff in charge. 9003 has only an email address (email is not set up).
const CSV =
  '顧客番号,氏名,フリガナ,携帯電話,メールアドレス,店番,担当者,LINE同意,メール同意,SMS同意\n' +
  '9001,山田 花子,ヤマダ ハナコ,,,001,田中,同意,,\n' +
  '9002,佐藤 健一,サトウ ケンイチ,,,001,,同意,,\n' +
  '9003,鈴木 美咲,スズキ ミサキ,,misaki@example.jp,001,田中,,同意,\n'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-campaigns-day-', pickFile: { name: 'customers.csv', contents: CSV } })

const ADMIN_PASSWORD = 'correct horse battery 1'
const APPROVER_INITIAL = 'approver initial 19'
const APPROVER_PASSWORD = 'approver passphrase 19'
const CAMPAIGN = '担当者からのご挨拶'
const COMMENT = '担当者が未登録のお客さまへの文面を決めてください。'

async function signOut(page) {
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
}

/** Before a screenshot: no hover, no toasts over the content (unless keep). */
async function settle(page, keepToasts = false) {
  await page.mouse.move(0, 0)
  if (!keepToasts) await page.waitForFunction(() => document.querySelectorAll('.n-message').length === 0, null, { timeout: 8000 }).catch(() => {})
  await page.waitForTimeout(300)
}

const checked = (loc) => loc.evaluate((el) => el.classList.contains('n-checkbox--checked'))
const disabled = (loc) => loc.evaluate((el) => el.classList.contains('n-checkbox--disabled'))
const openCampaign = (page) => page.locator('[data-testid="campaign-row"]').filter({ hasText: CAMPAIGN }).click()

test('a campaign day: set-up channels, no empty placeholder, 差し戻し, confirmed approval, one send', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  const errorToasts = []
  page.on('console', () => {})
  await signInFirstAdmin(ui)
  await importCustomers(page)
  const sims = await linkFriends(page, [
    ['山田 花子', '9001'],
    ['佐藤 健一', '9002'],
  ])
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: APPROVER_INITIAL })

  // 7: only LINE is set up: only LINE is ticked; email and SMS say why and lead to the settings.
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('campaigns-view').waitFor()
  await page.getByTestId('campaign-new').click()
  const editor = page.getByTestId('campaign-editor')
  await editor.getByTestId('channel-unset-email').waitFor()
  assert.equal(await checked(editor.getByTestId('channel-line')), true, 'LINE is ticked')
  for (const ch of ['email', 'sms']) {
    assert.equal(await checked(editor.getByTestId(`channel-${ch}`)), false, `${ch} is not ticked when it is not set up`)
    assert.equal(await disabled(editor.getByTestId(`channel-${ch}`)), true, `${ch} cannot be ticked when it is not set up`)
    assert.match(await editor.getByTestId(`channel-unset-${ch}`).innerText(), /未設定のため選べません/)
    await editor.getByTestId(`channel-settings-${ch}`).waitFor()
  }

  // 4: {担当者} with a customer who has none: counted, worst-case preview, no sample name.
  await page.getByTestId('campaign-name').fill(CAMPAIGN)
  await page.getByTestId('line-text').first().fill('{氏名} 様\n担当：{担当者}')
  const gap = editor.locator('[data-testid="placeholder-gap"][data-token="{担当者}"][data-missing="1"]')
  await gap.waitFor()
  assert.match(await gap.innerText(), /「担当者」が空になるお客さまが 1 人います/)
  assert.match(await gap.innerText(), /このままでは送れません/)
  const phone = editor.getByTestId('line-preview')
  await phone.locator('[data-testid="preview-message"]').filter({ hasText: '担当：［担当者なし］' }).waitFor()
  assert.ok(!(await phone.innerText()).includes('担当：佐藤'), 'the preview does not show a sample staff name')
  await editor.getByTestId('preview-worst').waitFor()
  // 7: the plan says what LINE costs in plain words.
  const plan = editor.getByTestId('campaign-plan')
  await plan.locator('[data-testid="plan-line-messages"]').waitFor()
  const planText = await plan.innerText()
  assert.match(planText, /LINE で使う通数は 2 通です/)
  assert.ok(!/回に分けて|種類の内容/.test(planText), `no jargon in the plan: ${planText}`)
  await settle(page)
  await ui.shot('campaigns-day-compose-ja.png')
  await editor.getByTestId('campaign-save').click()
  await page.locator('[data-testid="campaign-detail"][data-status="draft"]').waitFor()

  // 15: the approver is told something waits: a badge on 配信 and a notice.
  await signOut(page)
  await signIn(page, 'suzuki', APPROVER_INITIAL)
  await chooseOwnPassword(page, APPROVER_INITIAL, APPROVER_PASSWORD)
  await page.locator('[data-testid="nav-badge-campaigns"][data-count="1"]').waitFor()
  await page.locator('.n-message').filter({ hasText: '承認待ちの配信が 1 件あります' }).waitFor()
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('approvals-waiting').filter({ hasText: '承認待ちの配信が 1 件あります' }).waitFor()
  await openCampaign(page)
  const detail = page.getByTestId('campaign-detail')
  await detail.waitFor()
  // 4: the gap blocks approval, here too.
  await detail.getByTestId('approve-blocker').filter({ hasText: '差し込み項目が空になるお客さまがいるため承認できません' }).waitFor()
  assert.equal(await detail.getByTestId('campaign-approve').isDisabled(), true)
  const refused = await call(page, 'ApproveCampaign', (await mustCall(page, 'Campaigns'))[0].id, 1)
  assert.deepEqual(refused, { ok: false, body: { error: 'errors.campaignPlaceholder' } }, 'the Go side refuses the approval too')
  await settle(page, true)
  await ui.shot('campaigns-day-approver-badge-ja.png')

  // 15: 差し戻し needs a comment; the badge follows at once.
  await detail.getByTestId('campaign-return').click()
  const ret = page.getByTestId('return-dialog')
  await ret.waitFor()
  assert.equal(await ret.getByTestId('return-ok').isDisabled(), true, 'no sending back without a comment')
  await page.getByTestId('return-comment-input').fill(COMMENT)
  await settle(page)
  await ui.shot('campaigns-day-return-dialog-ja.png')
  await ret.getByTestId('return-ok').click()
  await page.locator('[data-testid="campaign-row"][data-status="returned"]').waitFor()
  await page.getByTestId('nav-badge-campaigns').waitFor({ state: 'detached' })
  assert.match(await detail.getByTestId('campaign-status').innerText(), /差し戻し/)

  // The author sees the comment, chooses a replacement text and asks again.
  await signOut(page)
  await signIn(page, 'tanaka', ADMIN_PASSWORD)
  await page.getByTestId('nav-campaigns').click()
  await openCampaign(page)
  await detail.getByTestId('returned-note').waitFor()
  assert.match(await detail.getByTestId('return-comment').innerText(), new RegExp(COMMENT))
  assert.match(await detail.getByTestId('returned-note').innerText(), /鈴木 課長 さんが差し戻しました/)
  await settle(page)
  await ui.shot('campaigns-day-returned-ja.png')
  await detail.getByTestId('campaign-edit').click()
  await editor.waitFor()
  await gap.waitFor()
  await gap.getByTestId('gap-fallback').click()
  await page.getByTestId('gap-fallback-text').fill('窓口担当')
  await editor.locator('[data-testid="placeholder-gap"][data-action="fallback"]').waitFor()
  await phone.locator('[data-testid="preview-message"]').filter({ hasText: '担当：窓口担当' }).waitFor()
  await settle(page)
  await ui.shot('campaigns-day-fallback-ja.png')
  await editor.getByTestId('campaign-save').click()
  await page.locator('[data-testid="campaign-detail"][data-version="2"]').waitFor()
  await detail.getByTestId('campaign-request-again').click()
  await page.locator('[data-testid="campaign-row"][data-status="draft"]').waitFor()

  // 15: 承認 asks first, saying how many, which channels and when.
  await signOut(page)
  await signIn(page, 'suzuki', APPROVER_PASSWORD)
  await page.locator('[data-testid="nav-badge-campaigns"][data-count="1"]').waitFor()
  await page.getByTestId('nav-campaigns').click()
  await openCampaign(page)
  await page.locator('[data-testid="campaign-detail"][data-status="draft"]').waitFor()
  await detail.locator('[data-testid="placeholder-gap"][data-action="fallback"]').waitFor()
  await page.waitForFunction(() => !document.querySelector('[data-testid="campaign-approve"]')?.disabled)
  await detail.getByTestId('campaign-approve').click()
  const confirm = page.getByTestId('approve-confirm')
  await confirm.waitFor()
  const confirmText = await confirm.innerText()
  assert.match(confirmText, /LINE 2 人・メール 0 人・SMS 0 人（計 2 人）/)
  assert.match(confirmText, /送る手段：LINE/)
  assert.match(confirmText, /まだ送信はされません/)
  await settle(page)
  await ui.shot('campaigns-day-approve-confirm-ja.png')
  await page.locator('.n-dialog__action button').filter({ hasText: '承認する' }).click()
  await page.locator('[data-testid="campaign-detail"][data-status="approved"]').waitFor()
  await page.getByTestId('nav-badge-campaigns').waitFor({ state: 'detached' })

  // 7: 送信する clicked twice: one send, no error.
  let sendCalls = 0
  await page.route('**/api/call/SendCampaign', (route) => {
    sendCalls++
    return route.continue()
  })
  page.on('console', () => {})
  await detail.getByTestId('campaign-send').click()
  await page.getByTestId('send-confirm').waitFor()
  await page.evaluate(() => {
    const ok = [...document.querySelectorAll('.n-dialog__action button')].find((b) => b.textContent.includes('送信する'))
    ok.click()
    ok.click()
  })
  await page.locator('.n-message').filter({ hasText: '送信を開始しました' }).waitFor()
  await page.locator('[data-testid="campaign-detail"][data-status="done"]').waitFor({ timeout: 60_000 })
  await page.waitForTimeout(1000)
  errorToasts.push(...(await page.locator('.n-message--error-type').allInnerTexts()))
  assert.deepEqual(errorToasts, [], 'no error after the success message')
  assert.equal(sendCalls, 1, 'a second click does not ask again')
  assert.equal(await detail.getByTestId('campaign-send').count(), 0, 'no send button once sent')

  // 7: the report gives each customer's real reason.
  const report = page.getByTestId('campaign-report')
  const row = report.locator('[data-testid="delivery-row"][data-number="9003"][data-status="skipped"]')
  await row.waitFor()
  assert.match(await row.innerText(), /メール未選択/)
  assert.ok(!(await row.innerText()).includes('連絡先なし'), 'a customer with an email address is not reported as having no contact')
  // 4: the sent campaign's preview is still the worst case (the replacement text), not a sample.
  await detail.getByTestId('line-preview').locator('[data-testid="preview-message"]').filter({ hasText: '担当：窓口担当' }).waitFor()
  await report.evaluate((el) => {
    const pane = el.closest('section.main')
    pane.scrollTop += el.getBoundingClientRect().top - pane.getBoundingClientRect().top - 8
  })
  await settle(page)
  await ui.shot('campaigns-day-report-ja.png')

  // 4: what the customers received: a name for everyone, never 「担当：」.
  for (const [name, staff] of [
    ['山田 花子', '田中'],
    ['佐藤 健一', '窓口担当'],
  ]) {
    const sim = sims.find((s) => s.displayName === name)
    const got = (await mustCall(page, 'SandboxChat', sim.userId)).filter((m) => m.from === 'official').map((m) => m.text)
    assert.ok(got.some((t) => t.includes(`担当：${staff}`)), `${name} got 担当：${staff}: ${JSON.stringify(got)}`)
    assert.ok(!got.some((t) => /担当：(\n|$)/.test(t) || t.includes('{担当者}')), `${name} got an empty placeholder: ${JSON.stringify(got)}`)
  }

  // English pass of the changed screens: nothing left untranslated.
  await page.getByTestId('lang-en').click()
  await page.getByTestId('campaign-status').filter({ hasText: 'Sent' }).waitFor()
  await page.locator('section.main').evaluate((el) => el.scrollTo(0, 0))
  await settle(page)
  await ui.shot('campaigns-day-detail-en.png')
  const en = await page.locator('section.main').innerText()
  assert.ok(!/campaigns\.[a-z]/.test(en), `an untranslated key: ${en}`)
  await page.getByTestId('lang-ja').click()
  await signOut(page)
  await signIn(page, 'tanaka', ADMIN_PASSWORD)
  await page.getByTestId('lang-en').click()
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('campaign-new').click()
  await editor.getByTestId('channel-unset-email').filter({ hasText: 'Not set up' }).waitFor()
  await page.getByTestId('line-text').first().fill('Dear {氏名}, your adviser is {担当者}')
  await editor.locator('[data-testid="placeholder-gap"][data-missing="1"]').waitFor()
  await settle(page)
  await ui.shot('campaigns-day-compose-en.png')
  const enEditor = await editor.innerText()
  assert.ok(!/campaigns\.[a-z]/.test(enEditor), `an untranslated key: ${enEditor}`)
  await page.getByTestId('lang-ja').click()

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
