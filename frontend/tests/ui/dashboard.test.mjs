// The friends dashboard (issue 20, "A friends dashboard"), end to end
// through the dev bridge at 1366×768 in Japanese (+ one English pass):
// LINE's daily friend counts fetched by 「LINE の集計を今すぐ確認」 within
// LINE's rules (today is 集計中, never a zero point), Tsunagu's own counts
// beside them (linked, consenting per channel), LINE's demographics
// withheld under 20 friends, and the month's quota with the forecast of a
// scheduled campaign: a clear warning when it exceeds what remains, none
// when it fits.
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/dashboard.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, pickImportFile, chooseOwnPassword, call, mustCall, signIn, importCustomers, linkFriends, settle } from './harness.mjs'

const CSV =
  '顧客番号,氏名,フリガナ,携帯電話,メールアドレス,店番,担当者,LINE同意,メール同意,SMS同意\n' +
  '9001,山田 花子,ヤマダ ハナコ,09012345678,hanako@example.jp,001,田中,同意,同意,\n' +
  '9002,佐藤 健一,サトウ ケンイチ,09087654321,,001,田中,同意,,同意\n' +
  '9003,鈴木 一郎,スズキ イチロウ,,ichiro@example.jp,001,田中,,同意,\n'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-dashboard-', pickFile: { name: 'customers.csv', contents: CSV } })

const APPROVER_INITIAL = 'approver initial 20d'
const APPROVER_PASSWORD = 'approver passphrase 20d'
const CAMPAIGN = '年末年始の窓口営業'

/** A local time in JST (yyyy-MM-ddTHH:mm) minutes from now. */
function jstLocal(minutes) {
  const t = new Date(Date.now() + minutes * 60_000 + 9 * 3600_000)
  return t.toISOString().slice(0, 16)
}

/** The named series of a SeriesChart's data-series attribute. */
function seriesOf(attr, name) {
  const part = attr.split(';').find((p) => p.startsWith(`${name}=`))
  assert.ok(part, `series ${name} in ${attr}`)
  return part.slice(name.length + 1).split(',')
}

test('the dashboard: LINE friends beside own counts, 集計中 never zero, withheld demographics, quota forecast warning', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)
  await importCustomers(page)
  await linkFriends(page, [
    ['山田 花子', '9001'],
    ['佐藤 健一', '9002'],
  ])

  // Before anything was fetched: today is 集計中, own counts are live.
  await page.getByTestId('nav-dashboard').click()
  const view = page.getByTestId('dashboard-view')
  await view.getByTestId('line-today').waitFor()
  assert.equal(await view.getByTestId('line-today').innerText(), '集計中')
  assert.match(await view.getByTestId('line-none').innerText(), /まだ LINE の集計を取得していません/)
  assert.equal(await view.getByTestId('own-linked').innerText(), '2')
  assert.equal(await view.getByTestId('own-consent-line').innerText(), '2')
  assert.equal(await view.getByTestId('own-consent-email').innerText(), '2')
  assert.equal(await view.getByTestId('own-consent-sms').innerText(), '1')

  // 「LINE の集計を今すぐ確認」: the past days LINE has counted come in;
  // today stays 集計中 and is no point of the chart, not a zero.
  await view.getByTestId('dashboard-check').click()
  await view.getByTestId('line-latest-date').waitFor()
  assert.equal(await view.getByTestId('line-today').innerText(), '集計中')
  assert.match(await view.getByTestId('line-counting').innerText(), /LINE がまだ集計中です.*0 人ではありません/)
  const lineSeries = await view.getByTestId('line-chart').getAttribute('data-series')
  const followers = seriesOf(lineSeries, '友だち追加数（累計）')
  assert.equal(followers.length, 30)
  assert.equal(followers[29], '-', 'today is a gap, not 0')
  assert.match(followers[28], /^\d+$/, 'yesterday is counted')
  // Own counts: today's live figure at the end of their series.
  const own = await view.getByTestId('own-chart').getAttribute('data-series')
  assert.equal(seriesOf(own, 'LINE 連携済みのお客さま')[29], '2')
  // A few simulated friends: LINE shows no demographics under 20.
  assert.match(await view.getByTestId('demo-withheld').innerText(), /20 人未満/)
  await settle(page)
  await ui.shot('dashboard-friends-ja.png')

  // The quota: a campaign scheduled this month to the two LINE friends,
  // and only one message left this month.
  await mustCall(page, 'SandboxSetQuota', 200, 199)
  const created = await mustCall(page, 'CreateCampaign', {
    name: CAMPAIGN,
    segmentId: 0,
    rules: { op: 'and' },
    content: {
      line: [
        { kind: 'text', text: '{氏名} 様\n年末年始の窓口営業についてお知らせします。' },
        { kind: 'text', text: '12/31〜1/3 は休業いたします。' },
      ],
      email: { subject: '', text: '' },
      sms: { text: '' },
    },
    channels: ['line'],
  })
  await mustCall(page, 'CreateStaff', { login: 'suzuki', displayName: '鈴木 課長', role: 'approver', password: APPROVER_INITIAL })
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn(page, 'suzuki', APPROVER_INITIAL)
  await chooseOwnPassword(page, APPROVER_INITIAL, APPROVER_PASSWORD)
  await mustCall(page, 'ApproveCampaign', created.id, created.version)
  // 15 minutes ahead: still this month (JST) except in the month's last
  // quarter hour, and long after this test has finished.
  await mustCall(page, 'ScheduleCampaign', created.id, jstLocal(15), 'Asia/Tokyo')

  await page.getByTestId('nav-dashboard').click()
  const quota = view.getByTestId('dashboard-quota')
  await quota.waitFor()
  await page.locator('[data-testid="dashboard-quota"][data-exceeds="yes"]').waitFor()
  assert.equal(await quota.getByTestId('quota-used').innerText(), '199')
  assert.equal(await quota.getByTestId('quota-remaining').innerText(), '1')
  assert.equal(await quota.getByTestId('quota-limit').innerText(), '200')
  // Two people: LINE counts a send per person, not per bubble.
  assert.equal(await quota.getByTestId('quota-forecast').innerText(), '2')
  const warning = await quota.getByTestId('quota-warning').innerText()
  assert.match(warning, /見込み（2 通）が今月の残り（1 通）を 1 通上回っています/)
  const item = await quota.getByTestId('quota-item').innerText()
  assert.match(item, new RegExp(`キャンペーン「${CAMPAIGN}」`))
  assert.match(item, /2 通/)
  assert.match(await quota.getByTestId('quota-how').innerText(), /見込みの出し方/)
  assert.equal(await quota.getByTestId('quota-bar').getAttribute('data-parts'), '199,1,1,0')
  await quota.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('dashboard-quota-warning-ja.png')

  // Room enough: no warning.
  await mustCall(page, 'SandboxSetQuota', 200, 150)
  await view.getByTestId('dashboard-check').click()
  await page.locator('[data-testid="dashboard-quota"][data-exceeds="no"]').waitFor()
  assert.equal(await quota.getByTestId('quota-warning').count(), 0)
  assert.match(await quota.getByTestId('quota-fits').innerText(), /収まっています/)

  // English pass: nothing left untranslated.
  await mustCall(page, 'SandboxSetQuota', 200, 199)
  await view.getByTestId('dashboard-check').click()
  await page.locator('[data-testid="dashboard-quota"][data-exceeds="yes"]').waitFor()
  await page.getByTestId('lang-en').click()
  await view.getByTestId('line-today').filter({ hasText: 'Counting' }).waitFor()
  await quota.scrollIntoViewIfNeeded()
  await settle(page)
  await ui.shot('dashboard-en.png')
  const en = (await view.innerText()).replaceAll(CAMPAIGN, '')
  assert.ok(!/dashboard\.[a-z]/.test(en), `an untranslated key: ${en}`)
  assert.ok(!/[ぁ-んァ-ン]/.test(en), `Japanese left in English: ${en}`)
  await page.getByTestId('lang-ja').click()

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
