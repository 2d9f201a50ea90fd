// End-to-end UI test of automated messages: the administrator imports
// customers with birth dates, creates a birthday reminder (3 days before, at
// 09:00 Japan time, LINE with an email fallback), looks at the 30-day
// preview, and cannot approve the rule as its author; a second staff member
// with the approver role approves it and switches it on.
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/automations.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, pickImportFile, chooseOwnPassword, call, mustCall, signIn, choose, settle } from './harness.mjs'

// Birthdays 5, 10 and 20 days from today (month and day; born in 1980), so
// that a "3 days before" reminder falls inside the next 30 days.
function birthday(days) {
  const d = new Date(Date.now() + 9 * 3600_000 + days * 86400_000) // Japan's date
  return `1980/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`
}
const CSV =
  '顧客番号,氏名,フリガナ,生年月日,メールアドレス,店番,担当者,LINE同意,メール同意,SMS同意\n' +
  `9001,山田 花子,ヤマダ ハナコ,${birthday(5)},hanako@example.jp,001,田中,同意,同意,\n` +
  `9002,佐藤 健一,サトウ ケンイチ,${birthday(10)},kenichi@example.jp,001,田中,,同意,\n` +
  `9003,鈴木 美咲,スズキ ミサキ,${birthday(20)},misaki@example.jp,001,田中,,同意,\n` +
  `9004,伊藤 正,イトウ タダシ,${birthday(10)},tadashi@example.jp,001,田中,,,\n`

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-automations-', pickFile: { name: 'customers.csv', contents: CSV } })
const APPROVER_PASSWORD = 'approver passphrase 8'
const APPROVER_INITIAL = 'approver initial 8'
const RULE = '誕生日 3 日前のお祝い'

test('birthday reminder: 30-day preview, approval by another staff member, switched on', async () => {
  const { page, pageErrors } = ui
  await signInFirstAdmin(ui)
  await pickImportFile(page)
  await page.waitForFunction(() => !document.querySelector('[data-testid="import-next"]')?.disabled)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-step-mapping').waitFor()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()

  await page.getByTestId('nav-automations').click()
  await page.getByTestId('automations-view').waitFor()
  await page.getByTestId('automation-new').click()
  const editor = page.getByTestId('automation-editor')
  await editor.waitFor()
  // A welcome series says which placeholder a new friend's message may use.
  await page.getByTestId('kind-welcome').click()
  await page.getByTestId('welcome-step-text').first().locator('textarea').fill('{氏名}様、友だち追加ありがとうございます。')
  assert.match(await page.getByTestId('welcome-placeholders').innerText(), /\{氏名\} はその方の LINE の表示名に置き換わります.*\{支店\}・\{担当者\} は使えません/)
  await settle(page)
  await ui.shot('automations-welcome-editor-ja.png')
  await page.getByTestId('kind-date').click()
  await page.getByTestId('automation-name').locator('input').fill(RULE)
  await choose(page, page.getByTestId('automation-field'), '誕生日')
  await page.getByTestId('automation-offset').locator('input').fill('3')
  await page.getByTestId('automation-at').locator('input').fill('09:00')
  await page.getByTestId('automation-line-text').locator('textarea').fill('{氏名} 様\nもうすぐお誕生日ですね。支店一同お祝い申し上げます。')
  await page.getByTestId('automation-email-subject').locator('input').fill('お誕生日のお祝い')
  await page.getByTestId('automation-email-text').locator('textarea').fill('{氏名} 様\n\nもうすぐお誕生日ですね。')

  // The preview: 9001 and 9002/9003 by email (9001 has no LINE link), 9004 has no consent.
  await page.getByTestId('automation-preview').click()
  const total = page.getByTestId('automation-preview-total')
  await total.waitFor()
  assert.match(await total.innerText(), /LINE 0 件・メール 3 件・SMS 0 件（同意・連絡先がなく送らない 1 件）/)
  const values = (await page.getByTestId('automation-preview-chart').getAttribute('data-values')).split(',').map(Number)
  assert.equal(values.length, 30)
  assert.equal(values.reduce((a, b) => a + b, 0), 3)
  assert.equal(values[2], 1) // birthday in 5 days: reminder in 2 days
  await page.getByTestId('automation-preview-panel').scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('automations-editor-preview-ja.png')

  await page.getByTestId('automation-save').click()
  const detail = page.getByTestId('automation-detail')
  await page.locator('[data-testid="automation-detail"][data-approved="false"]').waitFor()
  assert.match(await page.getByTestId('automation-approval').innerText(), /作成者（田中 支店長）以外の承認者による承認が必要です/)
  // The author (an administrator, who has no approve permission) gets no approve button.
  assert.equal(await detail.getByTestId('automation-approve').count(), 0)
  const rules = await mustCall(page, 'Automations')
  const created = rules.find((r) => r.name === RULE)
  assert.equal(created.author, 'staff:tanaka')
  assert.equal(created.approvedBy, '')
  assert.deepEqual(await call(page, 'ActivateAutomation', created.id), { ok: false, body: { error: 'errors.forbidden' } })
  await settle(page)
  await ui.shot('automations-awaiting-approval-ja.png')

  // A second staff member with the approver role approves and switches it on.
  // An administrator sets an initial password; 鈴木 replaces it at first sign-in.
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: APPROVER_INITIAL })
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'suzuki', APPROVER_INITIAL)
  await chooseOwnPassword(page, APPROVER_INITIAL, APPROVER_PASSWORD)
  await page.getByTestId('nav-automations').click()
  // The Go side refuses an approver's approval of their own rule, and the clerk is told why.
  const own = await mustCall(page, 'CreateAutomation', {
    name: '自分のルール',
    kind: 'date',
    spec: { field: 'birthday', offsetDays: 0, segmentId: 0, rules: { op: 'and' }, channels: ['line'], content: { line: [{ kind: 'text', text: 'テスト' }], email: { subject: '', text: '' }, sms: { text: '' } }, at: '09:00', timeZone: 'Asia/Tokyo', latenessMinutes: 0 },
  })
  assert.deepEqual(await call(page, 'ApproveAutomation', own.id, own.version), { ok: false, body: { error: 'errors.automationOwnApproval' } })
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('nav-automations').click()
  await page.locator('[data-testid="automation-row"]').filter({ hasText: '自分のルール' }).click()
  assert.equal(await page.getByTestId('automation-approve').isDisabled(), true)
  assert.match(await page.getByTestId('approve-blocker').innerText(), /ご自身が作成したルールは承認できません/)
  await settle(page)
  await ui.shot('automations-author-cannot-approve-ja.png')
  await mustCall(page, 'DeleteAutomation', own.id)
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('nav-automations').click()
  await page.locator('[data-testid="automation-row"]').filter({ hasText: RULE }).click()
  await page.getByTestId('automation-approve').click()
  await page.locator('[data-testid="automation-detail"][data-approved="true"]').waitFor()
  assert.match(await page.getByTestId('automation-approval').innerText(), /鈴木 課長 さんが承認しました/)
  await page.getByTestId('automation-activate').click()
  await page.locator('[data-testid="automation-detail"][data-status="active"]').waitFor()
  await page.getByTestId('automation-detail-preview').waitFor()
  assert.match(await page.getByTestId('automation-detail-preview-total').innerText(), /メール 3 件/)
  await settle(page)
  await ui.shot('automations-active-approved-ja.png')

  // English: the same screen in the other catalog.
  await page.getByTestId('lang-en').click()
  await page.getByTestId('automation-detail').getByText('Approved by 鈴木 課長').waitFor()
  assert.match(await page.getByTestId('automation-detail-preview-total').innerText(), /email 3/)
  await settle(page)
  await ui.shot('automations-active-approved-en.png')
  await page.getByTestId('lang-ja').click()

  assert.deepEqual(pageErrors, [])
})
