// LINE's own statistics in the campaign report (issue 20, "LINE's own
// statistics, per delivery"), end to end through the dev bridge at 1366×768
// in Japanese (+ one English pass): a campaign sent to the sandbox's
// simulated friends goes out under its own aggregation unit; before LINE's
// delay the report says 「LINE の集計は翌日に反映されます」; after it (the
// sandbox simulator's delay is engine.SandboxInsightDelay) 「LINE の集計を今
// すぐ確認」 fetches LINE's figures, and with only two friends every figure
// is under 20: shown as 「人数が少ないため表示されません」, never a zero.
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/insight.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, advanceClock, signInFirstAdmin, pickImportFile, chooseOwnPassword, call, mustCall, signIn, importCustomers, linkFriends, settle } from './harness.mjs'

const CSV =
  '顧客番号,氏名,フリガナ,携帯電話,メールアドレス,店番,担当者,LINE同意,メール同意,SMS同意\n' +
  '9001,山田 花子,ヤマダ ハナコ,,,001,田中,同意,,\n' +
  '9002,佐藤 健一,サトウ ケンイチ,,,001,田中,同意,,\n'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-insight-', pickFile: { name: 'customers.csv', contents: CSV } })

const APPROVER_INITIAL = 'approver initial 20'
const APPROVER_PASSWORD = 'approver passphrase 20'
const CAMPAIGN = '定期預金 満期のご案内'
// engine.SandboxInsightDelay.
const SANDBOX_DELAY_MS = 30_000

async function scrollTo(page, loc) {
  await loc.evaluate((el) => {
    const pane = el.closest('section.main')
    pane.scrollTop += el.getBoundingClientRect().top - pane.getBoundingClientRect().top - 8
  })
}

test('the campaign report shows LINE statistics: next day first, then withheld under 20, never zero', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)
  await importCustomers(page)
  await linkFriends(page, [
    ['山田 花子', '9001'],
    ['佐藤 健一', '9002'],
  ])
  const created = await mustCall(page, 'CreateCampaign', {
    name: CAMPAIGN,
    segmentId: 0,
    rules: { op: 'and' },
    content: {
      line: [
        { kind: 'text', text: '{氏名} 様\n定期預金の満期が近づいています。' },
        { kind: 'flex', template: 'notice', fields: { title: '満期のお手続き', body: '窓口またはお電話でご相談ください。', url: 'https://example-shinkin.jp/maturity' } },
      ],
      email: { subject: '', text: '' },
      sms: { text: '' },
    },
    channels: ['line'],
  })

  // An approver approves and sends it.
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: APPROVER_INITIAL })
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'suzuki', APPROVER_INITIAL)
  await chooseOwnPassword(page, APPROVER_INITIAL, APPROVER_PASSWORD)
  await mustCall(page, 'ApproveCampaign', created.id, created.version)
  await mustCall(page, 'SendCampaign', created.id)

  await page.getByTestId('nav-campaigns').click()
  await page.locator('[data-testid="campaign-row"]').filter({ hasText: CAMPAIGN }).click()
  await page.locator('[data-testid="campaign-detail"][data-status="done"]').waitFor({ timeout: 60_000 })

  // Before LINE's delay: the report says when figures come, and shows none.
  const stats = page.getByTestId('line-stats')
  await page.locator('[data-testid="line-stats"][data-status="waiting"]').waitFor()
  assert.match(await stats.getByTestId('line-stats-waiting').innerText(), /LINE の集計は翌日に反映されます/)
  assert.equal(await stats.getByTestId('line-stats-opened').count(), 0, 'no figure before LINE has any')
  // Asking now, before the delay, does not invent figures either.
  await stats.getByTestId('line-stats-check').click()
  await page.waitForTimeout(500)
  assert.equal(await stats.getAttribute('data-status'), 'waiting')
  await scrollTo(page, stats)
  await settle(page)
  await ui.shot('insight-report-waiting-ja.png')

  // After the delay: LINE's figures, each under 20 people, so withheld.
  // (the app's clock, which the simulator's statistics follow, moves past
  // the delay instead of the test waiting for it)
  await advanceClock(ui, SANDBOX_DELAY_MS / 1000 + 2)
  await stats.getByTestId('line-stats-check').click()
  await page.locator('[data-testid="line-stats"][data-status="ready"]').waitFor()
  assert.equal(await stats.getByTestId('line-stats-delivered').innerText(), '2')
  for (const id of ['line-stats-opened', 'line-stats-clicked', 'line-stats-played']) {
    assert.equal(await stats.getByTestId(id).innerText(), '人数が少ないため表示されません', `${id} is withheld, not 0`)
  }
  const bubbles = await stats.getByTestId('line-stats-bubble-withheld').innerText()
  assert.match(bubbles, /メッセージ 1：開封：人数が少ないため表示されません/)
  assert.match(bubbles, /メッセージ 2：開封：人数が少ないため表示されません/)
  // LINE lists a link once someone tapped it; nobody did.
  assert.match(await stats.getByTestId('line-stats-no-links').innerText(), /LINE の集計にリンクのタップはありません/)
  assert.equal(await stats.getByTestId('line-stats-bubble-chart').count(), 0, 'no zero bars for withheld figures')
  assert.match(await stats.innerText(), /20 人未満の数は LINE が表示しません/)
  await scrollTo(page, stats)
  await settle(page)
  await ui.shot('insight-report-withheld-ja.png')

  // English pass: nothing left untranslated.
  await page.getByTestId('lang-en').click()
  await stats.getByTestId('line-stats-opened').filter({ hasText: 'Too few people to show' }).waitFor()
  await scrollTo(page, stats)
  await settle(page)
  await ui.shot('insight-report-withheld-en.png')
  const en = await stats.innerText()
  assert.ok(!/campaigns\.[a-z]/.test(en), `an untranslated key: ${en}`)
  assert.ok(!/[ぁ-んァ-ン]/.test(en.replace(/example-shinkin\.jp\/maturity/g, '')), `Japanese left in English: ${en}`)
  await page.getByTestId('lang-ja').click()

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
