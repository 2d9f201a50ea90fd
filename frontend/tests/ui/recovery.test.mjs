// End-to-end UI test of issue 19 items 1 and 2: the recovery code prints
// (the printed sheet, a PDF through Chromium's print path, holds the code
// and nothing else of the app), and a lost database key is recovered from
// the window: 再試行 really restarts the engine, the administrator types
// the recovery code on the error screen, the restore is audited, and the
// header never shows the OS login name before sign-in.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver .ci/keyring-session node --test frontend/tests/ui/recovery.test.mjs
// Needs the real keychain (.ci/keyring-session: the test takes the DB key
// out of it with secret-tool, as a lost keychain would) and pdftotext.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { useUiHarness, submitFirstRun, restartDevserver, printToText } from './harness.mjs'

const ADMIN_PASSWORD = 'branch manager passphrase'
const CODE_RE = /^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-recovery-' })

const printedText = (name) => printToText(ui, name)
const squeeze = (s) => s.replace(/\s+/g, '')

/** The keychain item of the data folder's DB key (go-keyring's attributes). */
function keyItem() {
  const id = readFileSync(join(ui.dataDir, 'install-id'), 'utf8').trim()
  return ['service', 'tsunagu', 'username', `${id}/db-key`]
}
const secretTool = (args, input) => execFileSync('secret-tool', args, { encoding: 'utf8', input })

/** Restarts the app with the DB key gone from the keychain. */
async function loseKeyAndRestart() {
  secretTool(['clear', ...keyItem()])
  assert.throws(() => secretTool(['lookup', ...keyItem()]), 'the key is gone from the keychain')
  await restartDevserver(ui)
  await ui.page.goto(`${ui.baseUrl}/`)
  await ui.page.getByTestId('start-error').waitFor()
}

test('the recovery code prints; a lost key comes back from the window', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await page.goto(`${ui.baseUrl}/`)
  await page.getByTestId('firstrun-form').waitFor()
  await submitFirstRun(page, { login: 'admin', name: '支店長 佐藤', password: ADMIN_PASSWORD })

  // 1. First run: the recovery code prints, alone, on its sheet.
  const first = (await page.getByTestId('recovery-code').innerText()).trim()
  assert.match(first, CODE_RE)
  await ui.shot('recovery-card-ja.png')
  let text = await printedText('recovery-sheet-firstrun')
  assert.ok(squeeze(text).includes(first), `the printed sheet holds the code ${first}:\n${text}`)
  assert.match(text, /つなぐ 復旧コード/)
  assert.match(text, /保管者/)
  assert.ok(!text.includes('復旧コードを安全な場所に保管しました'), 'the sheet prints alone (not the card around it)')
  // Print and copy are offered; print is the browser's dialog (PDF there).
  await page.evaluate(() => {
    window.print = () => (window.__printed = (window.__printed || 0) + 1)
  })
  await page.getByTestId('recovery-print').click()
  assert.equal(await page.evaluate(() => window.__printed), 1)
  assert.match(await page.getByTestId('recovery-print').innerText(), /PDF として保存/)
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui.baseUrl })
  await page.getByTestId('recovery-copy').click()
  await page.getByText('復旧コードをコピーしました').waitFor()
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), first)
  await page.getByTestId('recovery-stored').click()
  await page.getByTestId('recovery-done').click()
  await page.getByTestId('staff-name').filter({ hasText: '支店長 佐藤' }).waitFor()

  // Printing a screen without a sheet prints the screen (it was blank).
  text = await printedText('recovery-inbox-print')
  assert.match(text, /受信箱/, `a screen without a sheet prints as shown:\n${text}`)

  // The backup screen's new code prints too (the new one, not the old).
  await page.getByTestId('nav-backup').click()
  await page.getByTestId('recovery-new').click()
  const code = page.getByTestId('recovery-code')
  await code.waitFor()
  const second = (await code.innerText()).trim()
  assert.match(second, CODE_RE)
  assert.notEqual(second, first)
  text = await printedText('recovery-sheet-backup')
  assert.ok(squeeze(text).includes(second), `the backup screen's sheet holds ${second}:\n${text}`)
  assert.ok(!squeeze(text).includes(first))
  await page.getByTestId('recovery-stored').click()
  await page.getByTestId('recovery-done').click()
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()

  // 2. The keychain loses the key: the error screen, with no name in the
  // header (it used to show the OS login name as 担当者).
  const saved = secretTool(['lookup', ...keyItem()]).trim()
  assert.match(saved, /\S{32,}/, 'the DB key is in the keychain')
  await loseKeyAndRestart()
  assert.match(await page.getByTestId('start-error').innerText(), /データベースの鍵がキーチェーンに見つかりません/)
  assert.equal(await page.getByTestId('staff-name').count(), 0, 'no 担当者 before sign-in')
  await ui.shot('recovery-key-missing-ja.png')

  // 再試行 with the key still missing: still the error; once the key is
  // back (as tsunagu-cli recovery restore would put it), 再試行 starts the
  // app without restarting it.
  await page.getByTestId('start-retry').click()
  await page.getByTestId('start-error').waitFor()
  secretTool(['store', '--label=tsunagu db-key', ...keyItem()], saved)
  await page.getByTestId('start-retry').click()
  await page.getByTestId('signin-form').waitFor()

  // In the window: the administrator types the printed code.
  await loseKeyAndRestart()
  await page.getByTestId('key-recovery-open').click()
  await page.getByTestId('key-recovery-code').fill('0000-0000-0000-0000-0000-0000-0000-0000')
  await page.getByTestId('key-recovery-submit').click()
  await page.getByTestId('key-recovery-error').filter({ hasText: '復旧コードが一致しません' }).waitFor()
  await page.waitForTimeout(300) // the button's spinner fades out
  await ui.shot('recovery-key-form-error-ja.png')
  // As typed from paper: lower case, spaces instead of dashes.
  await page.getByTestId('key-recovery-code').fill(second.toLowerCase().replaceAll('-', ' '))
  await page.getByTestId('key-recovery-submit').click()
  await page.getByTestId('signin-form').waitFor()
  await page.getByText('データベースの鍵を復元しました').waitFor()
  await ui.shot('recovery-key-restored-ja.png')
  assert.equal(await page.getByTestId('staff-name').count(), 0)

  // Signed in: the restore is in the audit trail, once (the 再試行 above
  // was a key put back outside the app, not a restore by the app).
  await page.getByTestId('signin-login').fill('admin')
  await page.getByTestId('signin-password').fill(ADMIN_PASSWORD)
  await page.getByTestId('signin-submit').click()
  await page.getByTestId('staff-name').filter({ hasText: '支店長 佐藤' }).waitFor()
  await page.getByTestId('nav-audit').click()
  const rows = page.locator('[data-testid="audit-row"][data-action="recovery.restore"]')
  await rows.first().waitFor()
  assert.equal(await rows.count(), 1)
  assert.match(await rows.first().innerText(), /復旧コードの入力者/)
  // One sign-in per sign-in (the first administrator's, and this one).
  assert.equal(await page.locator('[data-testid="audit-row"][data-action="auth.signin"]').count(), 2)
  await ui.shot('recovery-audit-ja.png')

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
  for (const c of [first, second]) assert.ok(!ui.serverOutput.includes(c), 'the devserver log holds no recovery code')
  assert.ok(!ui.serverOutput.includes(saved), 'the devserver log holds no DB key')
})

test('English: the recovery screens are translated', async () => {
  const { page } = ui
  await loseKeyAndRestart()
  // The restarted bridge has a new port, so a new origin: choose English there.
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
  await page.reload()
  await page.getByTestId('start-error').waitFor()
  await page.getByTestId('key-recovery-open').click()
  const screen = await page.getByTestId('start-error').innerText()
  assert.match(screen, /The database key was not found in the keychain/)
  assert.match(screen, /Restore the key with the recovery code/)
  assert.doesNotMatch(screen, /[\u3040-\u30ff]/, 'no Japanese left on the English screen')
  await ui.shot('recovery-key-missing-en.png')
})
