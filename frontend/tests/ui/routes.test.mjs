// Inflow routes (流入経路, issue 20), in the sandbox at 1366×768: a route is
// created in the editor (a wrong page URL is named at its field first; a
// half-typed one survives leaving the screen as a draft), its
// QR code and A4 poster are shown and saved (PDF and PNG, through the save
// dialog), simulated people open the routes' URLs (the sandbox's loopback
// stand-in for the relay records the visit and redirects to LINE's
// add-friend URL) and add the account: each is attributed to the route they
// opened, route A's welcome message reaches its friend, a friend from
// nowhere stays unknown; the report shows it as a table and a chart and is
// exported as CSV. One English pass of the detail and the report.
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/routes.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin, artifactsDir, call, mustCall, settle, openLink } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-routes-', pickFile: { name: 'unused.csv', contents: 'x\n' } })

const WELCOME = '窓口のポスターからのご登録ありがとうございます。'
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/

function savedFile(prefix) {
  const f = readdirSync(ui.filesDir).find((n) => n.startsWith(prefix))
  assert.ok(f, `no ${prefix}* saved in ${ui.filesDir}: ${readdirSync(ui.filesDir)}`)
  return readFileSync(join(ui.filesDir, f))
}
async function routeFriends(page, name) {
  const list = await mustCall(page, 'Routes', false)
  return list.find((r) => r.name === name)?.friends ?? -1
}

test('inflow routes: editor, QR code and poster, attributed friends, the report', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await page.getByTestId('nav-routes').click()
  await page.getByTestId('routes-view').waitFor()

  // The editor names a wrong field: a page URL that is not https.
  await page.getByTestId('route-new').click()
  const editor = page.getByTestId('route-editor')
  await editor.getByTestId('route-name').fill('窓口カウンターのポスター')
  await editor.getByTestId('route-target-page').click()
  await editor.getByTestId('route-page-url').fill('http://www.example.jp/line')
  await editor.getByTestId('route-welcome').fill(WELCOME)
  await editor.getByTestId('route-save').click()
  await editor.locator('.n-form-item-feedback--error, .n-form-item-feedback-wrapper .n-form-item-feedback__line').filter({ hasText: /https/ }).first().waitFor()
  assert.match(await editor.innerText(), /ページの URL/)
  await settle(page)
  await ui.shot('routes-editor-error-ja.png')
  // Back to LINE's add-friend screen; saved.
  await editor.getByTestId('route-target-friend').click()
  await editor.getByTestId('route-save').click()
  const detail = page.getByTestId('route-detail')
  await detail.waitFor()
  assert.equal(await detail.getByTestId('route-detail-name').innerText(), '窓口カウンターのポスター')

  // Its QR code and poster.
  await detail.getByTestId('route-qr').waitFor()
  await detail.getByTestId('route-poster-preview').waitFor()
  const url = await detail.getByTestId('route-url').innerText()
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/r\/sandbox\/[A-Za-z0-9_-]{32}$/)
  assert.equal(await detail.getByTestId('route-poster-branch').inputValue(), 'つなぐ信用金庫（サンドボックス）')
  await settle(page)
  await ui.shot('routes-detail-ja.png')
  await detail.getByTestId('route-save-poster-pdf').click()
  await page.locator('.n-message').filter({ hasText: /route-poster-\d+\.pdf に保存しました/ }).waitFor()
  const pdf = savedFile('route-poster-')
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-')
  assert.ok(pdf.length > 20_000, `poster PDF of ${pdf.length} bytes`)
  await detail.getByTestId('route-save-poster-png').click()
  await page.locator('.n-message').filter({ hasText: /route-poster-\d+\.png に保存しました/ }).waitFor()
  const posterPng = readdirSync(ui.filesDir).find((n) => /^route-poster-\d+\.png$/.test(n))
  assert.ok(posterPng)
  const png = readFileSync(join(ui.filesDir, posterPng))
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [2480, 3508], 'A4 at 300 dpi')
  writeFileSync(join(artifactsDir, 'routes-poster.png'), png) // to look at the printed page
  await detail.getByTestId('route-save-qr').click()
  await page.locator('.n-message').filter({ hasText: /route-qr-\d+\.png に保存しました/ }).waitFor()
  assert.equal(savedFile('route-qr-').subarray(1, 4).toString(), 'PNG')

  // Unsaved work is kept: a half-typed new route survives leaving the screen.
  await page.getByTestId('route-new').click()
  await page.getByTestId('route-editor').getByTestId('route-name').fill('下書きの経路')
  await page.waitForTimeout(1500)
  await page.getByTestId('nav-inbox').click()
  await page.getByTestId('nav-routes').click()
  await page.getByTestId('route-editor').waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid="route-name"]')?.value === '下書きの経路', null, { timeout: 10_000 })
  await page.getByTestId('route-editor').getByTestId('draft-discard').waitFor()
  await page.getByTestId('route-editor').getByTestId('route-cancel').click()

  // A second route, made through the API like a colleague would.
  const flyer = await mustCall(page, 'CreateRoute', { name: '秋のチラシ', target: 'friend', pageUrl: '', tag: '', welcome: '' })
  assert.ok(flyer.published && flyer.url.includes('/r/sandbox/'), JSON.stringify(flyer))
  const account = await mustCall(page, 'RouteAccount')

  // People open the routes and add the account; one comes from nowhere.
  const visitA = await openLink(url)
  assert.equal(visitA.status, 302)
  assert.equal(visitA.location, `https://line.me/R/ti/p/${account.basicId}`)
  const a = await mustCall(page, 'SandboxNewFriend', '来店 一郎')
  for (let i = 0; i < 50 && (await routeFriends(page, '窓口カウンターのポスター')) < 1; i++) await page.waitForTimeout(200)
  assert.equal((await openLink(flyer.url)).status, 302)
  await mustCall(page, 'SandboxNewFriend', '来店 二郎')
  for (let i = 0; i < 50 && (await routeFriends(page, '秋のチラシ')) < 1; i++) await page.waitForTimeout(200)
  await mustCall(page, 'SandboxNewFriend', '検索 三郎')
  assert.equal(await routeFriends(page, '窓口カウンターのポスター'), 1)
  assert.equal(await routeFriends(page, '秋のチラシ'), 1)
  // Route A's welcome message reached its friend's phone.
  let chat = []
  for (let i = 0; i < 50 && !chat.some((m) => m.text === WELCOME); i++) {
    chat = await mustCall(page, 'SandboxChat', a.userId)
    await page.waitForTimeout(200)
  }
  assert.ok(chat.some((m) => m.text === WELCOME), `welcome not on the phone: ${JSON.stringify(chat)}`)

  // The list shows the friends; the report the routes and the unknown one.
  await page.getByTestId('nav-inbox').click()
  await page.getByTestId('nav-routes').click()
  await page.getByTestId('route-row').filter({ hasText: '窓口カウンターのポスター' }).filter({ hasText: '友だち 1 人' }).waitFor()
  await page.locator('.n-tabs-tab[data-name="report"]').click()
  const report = page.getByTestId('route-report')
  await report.waitFor()
  for (let i = 0; i < 50 && (await report.getByTestId('route-report-row').count()) < 3; i++) await page.waitForTimeout(200)
  const rows = await report.getByTestId('route-report-row').allInnerTexts()
  assert.ok(rows.some((r) => /窓口カウンターのポスター\s+1\s+1\s+0\s+0/.test(r)), rows.join('\n'))
  assert.ok(rows.some((r) => /秋のチラシ\s+1\s+1\s+0\s+0/.test(r)), rows.join('\n'))
  assert.ok(rows.some((r) => /経路不明（QR を経由していない）\s+—\s+1/.test(r)), rows.join('\n'))
  await report.locator('canvas').first().waitFor()
  await settle(page)
  await ui.shot('routes-report-ja.png')
  await report.getByTestId('route-report-export').click()
  await page.locator('.n-message').filter({ hasText: /routes-\d+\.csv に書き出しました/ }).waitFor()
  const csv = savedFile('routes-').toString()
  assert.match(csv, /窓口カウンターのポスター,利用中,1,1,0,0,/)

  // Every save is in the audit trail as an export.
  const exports = (await mustCall(page, 'AuditEntries', { action: 'route.export', limit: 20 })).entries
  assert.deepEqual(exports.map((e) => e.detail.what).sort(), ['poster_pdf', 'poster_png', 'qr', 'report'])
  const created = (await mustCall(page, 'AuditEntries', { action: 'route.', limit: 20 })).entries.filter((e) => e.action === 'route.create')
  assert.equal(created.length, 2)

  // English: the screen's own words are translated.
  await page.getByTestId('lang-en').click()
  await settle(page)
  const enReport = await report.locator('thead').innerText()
  assert.ok(!JAPANESE.test(enReport), `Japanese left in the English report header: ${enReport}`)
  assert.ok(!JAPANESE.test(await report.locator('.how').innerText()))
  await ui.shot('routes-report-en.png')
  await page.locator('.n-tabs-tab[data-name="routes"]').filter({ hasText: 'Routes and QR codes' }).click()
  await page.getByTestId('route-row').filter({ hasText: '窓口カウンターのポスター' }).click()
  await page.getByTestId('route-detail').getByTestId('route-qr').waitFor()
  const words = await page.getByTestId('route-detail').locator('h4, button, .meta').allInnerTexts()
  const untranslated = words.filter((w) => JAPANESE.test(w.replace('窓口カウンターのポスター', '')))
  assert.deepEqual(untranslated, [], 'Japanese left in the English detail')
  await settle(page)
  await ui.shot('routes-detail-en.png')
  assert.deepEqual(ui.pageErrors, [])
})
