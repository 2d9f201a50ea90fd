// End-to-end UI test of issue 19 item 15's administrator screens, at
// 1366×768 in Japanese: 公開して反映 with nothing assigned says what to do
// instead of a green 「0 件」; the audit log filters by date and an auditor
// exports it as CSV through the save dialog (audited, as the CLI's export);
// the backup folder has a folder picker and a warning when it lies inside
// the data folder or on the same disk; toasts stay below the header and
// close when the screen changes or the screen locks.
//
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/admin-screens.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin, chooseOwnPassword, call } from './harness.mjs'

// In the desktop app the window and the Go side share the OS time zone, so
// a day chosen on screen is the day the export records: the bridge (which
// inherits this environment) and the browser (Asia/Tokyo) must share it too.
process.env.TZ = 'Asia/Tokyo'

// The folder the folder dialog answers (the bridge's --pick-dir): outside
// the data folder, but on the same disk as it (both under the temp folder).
const pickDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-nas-'))
const ui = useUiHarness({
  dataPrefix: 'tsunagu-ui-admin-',
  pickFile: { name: 'unused.csv', contents: '顧客番号\r\n' },
  devserverArgs: ['--pick-dir', pickDir],
})
process.on('exit', () => rmSync(pickDir, { recursive: true, force: true }))

/** Today as the date picker's input shows it (yyyy-MM-dd). */
function today() {
  const d = new Date()
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

test('admin screens: nothing to publish, audit period and export, backup folder, toasts', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)

  // 公開して反映 with no menu assigned: a warning that says what to do.
  await page.getByTestId('nav-richmenus').click()
  await page.getByTestId('richmenus-view').waitFor()
  await page.getByTestId('richmenu-publish-button').click()
  const result = page.getByTestId('richmenu-result')
  await result.waitFor()
  assert.equal(await result.getAttribute('data-level'), 'warning', 'not a success')
  assert.match(await result.innerText(), /公開するメニューがありません/)
  assert.match(await result.innerText(), /既定/)
  assert.doesNotMatch(await result.innerText(), /0 件/)
  assert.equal(await page.locator('.n-message--success-type').count(), 0, 'no green toast')
  await result.scrollIntoViewIfNeeded()
  await ui.shot('admin-richmenu-nothing-ja.png')

  // Backup: the default folder is inside the data folder, and the screen says so.
  await page.getByTestId('nav-backup').click()
  await page.getByTestId('backup-view').waitFor()
  const warning = page.getByTestId('backup-placement-warning')
  await warning.waitFor()
  assert.equal(await warning.getAttribute('data-kind'), 'backup.placement.inside')
  assert.match(await warning.innerText(), /データフォルダの中/)
  await ui.shot('admin-backup-inside-ja.png')
  // The folder dialog: another folder, still on this PC's disk.
  await page.getByTestId('backup-pick-dir').click()
  await page.waitForFunction((dir) => document.querySelector('[data-testid="backup-dir"]')?.value === dir, pickDir)
  await page.waitForFunction(() => document.querySelector('[data-testid="backup-placement-warning"]')?.dataset.kind === 'backup.placement.sameDisk')
  assert.match(await warning.innerText(), /同じディスク/)
  await page.getByRole('button', { name: '保存' }).first().click()
  await page.locator('.n-message', { hasText: 'バックアップ設定を保存しました。' }).waitFor()
  const saved = await call(page, 'BackupSettings')
  assert.equal(saved.body.dir, pickDir)
  assert.deepEqual(saved.body.placement, { insideDataDir: false, sameDisk: true })
  await ui.shot('admin-backup-same-disk-ja.png')

  // The toast sits below the header, and leaving the screen closes it.
  const toast = page.locator('.n-message', { hasText: 'バックアップ設定を保存しました。' })
  const headerBottom = await page.locator('.app-header').evaluate((h) => h.getBoundingClientRect().bottom)
  const toastTop = await toast.evaluate((m) => m.getBoundingClientRect().top)
  assert.ok(toastTop >= headerBottom, `the toast (top ${toastTop}) covers the header (bottom ${headerBottom})`)
  await page.getByTestId('nav-audit').click()
  await page.getByTestId('audit-view').waitFor()
  await page.waitForTimeout(400) // the toast's leave transition
  assert.equal(await toast.count(), 0, 'the toast outlived its screen')

  // Locking closes toasts too: none is left over the lock screen.
  await page.getByTestId('nav-backup').click()
  await page.getByTestId('backup-view').waitFor()
  await page.getByRole('button', { name: '保存' }).first().click()
  await toast.waitFor()
  await page.getByTestId('lock-now').click()
  await page.getByTestId('lock-screen').waitFor()
  await page.waitForTimeout(400)
  assert.equal(await page.locator('.n-message').count(), 0, 'a toast stayed over the lock screen')
  await ui.shot('admin-locked-no-toast-ja.png')
  await page.getByTestId('unlock-password').fill('correct horse battery 1')
  await page.getByTestId('unlock-submit').click()
  await page.getByTestId('nav-audit').waitFor()

  // The audit log: a date filter. Nothing tomorrow, today's entries today.
  await page.getByTestId('nav-audit').click()
  const rows = page.getByTestId('audit-row')
  await rows.first().waitFor()
  const period = page.getByTestId('audit-period')
  const inputs = period.locator('input')
  const d = new Date()
  d.setDate(d.getDate() + 1)
  const tomorrow = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
  await inputs.nth(0).fill(tomorrow)
  await inputs.nth(1).fill(tomorrow)
  await inputs.nth(1).press('Enter')
  await page.locator('h2', { hasText: '監査ログ' }).click()
  await page.getByTestId('audit-search').click()
  await page.locator('.empty', { hasText: '該当する記録はありません' }).waitFor()
  await inputs.nth(0).fill(today())
  await inputs.nth(1).fill(today())
  await inputs.nth(1).press('Enter')
  await page.locator('h2', { hasText: '監査ログ' }).click()
  await page.getByTestId('audit-search').click()
  await rows.first().waitFor()
  // An administrator reads the trail; exporting it is the auditor's.
  assert.equal(await page.getByTestId('audit-export').count(), 0)
  assert.match(await page.getByTestId('audit-export-hint').innerText(), /監査担当/)
  await ui.shot('admin-audit-period-ja.png')

  // An auditor exports today's entries: the save dialog (the bridge's
  // --save-dir) gets the CSV, and the export is on the trail with its range.
  const made = await call(page, 'CreateStaff', { login: 'kansa', displayName: '監査 一郎', role: 'auditor', password: 'initial password 1' })
  assert.ok(made.ok, JSON.stringify(made.body))
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-login').fill('kansa')
  await page.getByTestId('signin-password').fill('initial password 1')
  await page.getByTestId('signin-submit').click()
  await chooseOwnPassword(page, 'initial password 1', 'kansa own passphrase 1')
  await page.getByTestId('audit-view').waitFor()
  await rows.first().waitFor()
  // Signing in asked for nothing the role may not have: the trail holds no
  // refusal for the auditor (the screens ask only what the role allows),
  // also after the status bar's 5-second refresh.
  await page.waitForTimeout(5500)
  const denied = await call(page, 'AuditEntries', { action: 'access.denied', actor: 'staff:kansa', limit: 50 })
  assert.ok(denied.ok, JSON.stringify(denied.body))
  const mine = denied.body.entries
  assert.deepEqual(mine.map((e) => e.detail), [], 'no refused call at the auditor\'s sign-in')
  await inputs.nth(0).fill(today())
  await inputs.nth(1).fill(today())
  await inputs.nth(1).press('Enter')
  await page.locator('h2', { hasText: '監査ログ' }).click()
  await page.getByTestId('audit-search').click()
  await rows.first().waitFor()
  const shown = await rows.count()
  await page.getByTestId('audit-export').click()
  const done = page.locator('.n-message', { hasText: '件の記録を書き出しました' })
  await done.waitFor()
  const file = join(ui.filesDir, `audit-${today().replaceAll('-', '')}.csv`)
  assert.ok(existsSync(file), `${file} written`)
  const csv = readFileSync(file, 'utf8')
  assert.ok(csv.startsWith('\ufeff'), 'UTF-8 with BOM, for Excel')
  const lines = csv.trim().split('\n')
  assert.ok(lines.length - 1 >= shown, `every entry of the period (${lines.length - 1} lines, ${shown} shown)`)
  assert.match(await done.innerText(), new RegExp(`${lines.length - 1} 件の記録を書き出しました`))
  await ui.shot('admin-audit-exported-ja.png')
  await page.getByTestId('audit-search').click()
  const exportRow = page.locator('[data-testid="audit-row"][data-action="audit.export"]').first()
  await exportRow.waitFor()
  assert.match(await exportRow.innerText(), new RegExp(`期間の開始日：\\s*${today()}`))
  assert.match(await exportRow.innerText(), /監査 一郎/)

  // English: the same screen, nothing left untranslated.
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
  await page.reload()
  await page.getByTestId('audit-view').waitFor()
  await rows.first().waitFor()
  const en = await page.getByTestId('audit-view').innerText()
  assert.match(en, /Export/)
  const ja = (en.replaceAll('監査 一郎', '').replaceAll('田中 支店長', '').match(/[^\n]*[ぁ-んァ-ヶ一-龥][^\n]*/g) ?? [])
  assert.deepEqual(ja, [], 'untranslated text on the English audit screen')
  await ui.shot('admin-audit-en.png')
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'ja'))
  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
