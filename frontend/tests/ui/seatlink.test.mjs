// Issue 18: a real seat (子機). The harness's devserver is the primary
// (--seat-listen); tsunagu-cli issues a seat code there and pairs a seat
// folder of its own; a second devserver plays the seat (--seat), forwarding
// its browser's calls and events over mutual TLS. The primary killed: the
// seat's screen says so at once and calls fail; the primary back on its
// address: the banner goes and the clerk signs in again, without restarting
// the seat. An export on the seat is written in the seat's folder.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useUiHarness, signInFirstAdmin, chooseOwnPassword, mustCall, signIn, artifactsDir, distDir, settle } from './harness.mjs'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const cli = process.env.TSUNAGU_CLI || join(repoRoot, 'build', 'bin', 'tsunagu-cli')
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-seatlink-', devserverArgs: ['--seat-listen', '127.0.0.1:0'] })

/** Starts a devserver process and resolves with it and its URL. */
function devserver(args, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.env.TSUNAGU_DEVSERVER, ['--listen', '127.0.0.1:0', '--static', distDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no LISTEN line within 30 s:\n${out}`)), 30_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (c) => {
      out += c
      const m = out.match(/^LISTEN (http:\/\/\S+)\s*$/m)
      if (m) {
        clearTimeout(timer)
        resolvePromise({ child, url: m[1].replace(/\/$/, ''), output: () => out })
      }
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (c) => (out += c))
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`devserver exited (code ${code}, signal ${signal}):\n${out}`))
    })
  })
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  child.removeAllListeners('exit')
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  return exited
}

test('a seat forwards to its primary; the primary away shows a banner at once, and the seat resumes when it is back', async (t) => {
  assert.ok(existsSync(cli), `${cli} does not exist: make cli (or set TSUNAGU_CLI). Refusing to skip.`)
  await signInFirstAdmin(ui)
  await mustCall(ui.page, 'CreateStaff', { login: 'madoguchi', displayName: '窓口 花子', role: 'operator', password: 'initial password 18' })
  const sims = await mustCall(ui.page, 'SandboxCustomers')
  await mustCall(ui.page, 'SandboxSend', sims[0].userId, '住所が変わりました。手続きを教えてください。')

  const seats = ui.serverOutput.match(/^SEATS (\S+) (\S+)\s*$/m)
  assert.ok(seats, `the primary printed no SEATS line:\n${ui.serverOutput}`)
  const [, seatAddr, fingerprint] = seats
  const code = JSON.parse(execFileSync(cli, ['seat', 'code', '窓口2', '--json', '--data-dir', ui.dataDir], { encoding: 'utf8' })).code
  const seatDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-seat-'))
  execFileSync(cli, ['seat', 'pair', '--primary', seatAddr, '--fingerprint', fingerprint, '--data-dir', seatDir], { input: `${code}\n`, encoding: 'utf8' })
  const seatTmp = mkdtempSync(join(tmpdir(), 'tsunagu-ui-seat-tmp-'))
  // The seat's own save dialog answers a folder of the seat's (its files).
  const seatFiles = mkdtempSync(join(tmpdir(), 'tsunagu-ui-seat-files-'))
  const seatServer = await devserver(['--data-dir', seatDir, '--seat', '--save-dir', seatFiles], { TMPDIR: seatTmp })
  t.after(() => stop(seatServer.child))
  // The seat's link comes up in its own time: wait for it, not a while.
  for (let i = 0; ; i++) {
    const r = await fetch(`${seatServer.url}/api/call/AuthState`, { method: 'POST', body: '[]' })
    if (r.ok) break
    assert.ok(i < 300, `the seat did not connect: ${await r.text()}\n${seatServer.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }

  const context = await ui.browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo', deviceScaleFactor: 1 })
  t.after(() => context.close())
  const seat = await context.newPage()
  seat.setDefaultTimeout(30_000)
  seat.on('pageerror', (err) => ui.pageErrors.push(`seat: ${err}`))
  await seat.goto(`${seatServer.url}/`)

  // The seat knows it is one from the start (its own Go side answers, not a
  // change of the link): the header names it, and what only the primary
  // does is not there, with one calm line where a panel would be empty.
  const signinSeat = seat.getByTestId('signin-seat')
  await signinSeat.waitFor()
  assert.equal((await signinSeat.innerText()).trim(), '子機: 窓口2')
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-seat-signin-ja.png') })
  await signIn(seat, 'tanaka', 'correct horse battery 1')
  const seatName = seat.getByTestId('seat-name')
  await seatName.waitFor()
  assert.equal((await seatName.innerText()).trim(), '子機: 窓口2')
  await seat.getByTestId('nav-backup').click()
  await seat.getByTestId('backup-settings').waitFor()
  assert.equal((await seat.getByTestId('backup-settings').getByTestId('primary-only').innerText()).trim(), 'この設定は親機で行います')
  for (const id of ['backup-pick-dir', 'backup-save', 'backup-keep', 'backup-interval']) assert.equal(await seat.getByTestId(id).count(), 0, `${id} on a seat`)
  assert.equal(await seat.locator('#backup-dir').count(), 0, 'the backup folder on a seat')
  await seat.getByTestId('backup-now').waitFor() // runs on the primary, into its own folder
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-seat-backup-ja.png') })
  await seat.getByTestId('nav-staff').click()
  await seat.getByTestId('seat-admin').waitFor()
  await seat.getByTestId('seat-row').first().waitFor()
  for (const id of ['seat-port-save', 'seat-firewall-state', 'seat-firewall-allow']) assert.equal(await seat.getByTestId(id).count(), 0, `${id} on a seat`)
  assert.equal(await seat.locator('#seat-port').count(), 0, 'the seat port on a seat')
  await seat.getByTestId('seat-issue').waitFor() // codes and revocation run on the primary
  await seat.getByTestId('seat-admin').scrollIntoViewIfNeeded()
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-seat-staff-ja.png') })
  await seat.getByTestId('nav-about').click()
  const updateCard = seat.getByTestId('update-card')
  await updateCard.waitFor()
  assert.equal((await updateCard.getByTestId('primary-only').innerText()).trim(), 'この設定は親機で行います')
  for (const id of ['update-check', 'update-not-configured', 'update-install']) assert.equal(await seat.getByTestId(id).count(), 0, `${id} on a seat`)

  // The primary's window has them all, and names no seat.
  const { page } = ui
  assert.equal(await page.getByTestId('seat-name').count(), 0)
  await page.getByTestId('nav-backup').click()
  await page.getByTestId('backup-pick-dir').waitFor()
  await page.getByTestId('backup-save').waitFor()
  assert.equal(await page.getByTestId('primary-only').count(), 0)
  await page.getByTestId('nav-staff').click()
  await page.getByTestId('seat-port-save').waitFor()
  await page.getByTestId('seat-firewall-state').waitFor()
  await page.getByTestId('seat-admin').scrollIntoViewIfNeeded()
  await settle(page)
  await page.screenshot({ path: join(artifactsDir, 'seatlink-primary-staff-ja.png') })
  await page.getByTestId('nav-about').click()
  await page.getByTestId('update-card').waitFor()
  assert.equal(await page.getByTestId('primary-only').count(), 0)
  assert.ok((await page.getByTestId('update-check').count()) + (await page.getByTestId('update-not-configured').count()) > 0, 'the primary shows its update check')

  await seat.getByTestId('sign-out').click()
  // The seat's sign-in is the primary's: the staff member's own account there.
  await signIn(seat, 'madoguchi', 'initial password 18')
  await chooseOwnPassword(seat, 'initial password 18', 'madoguchi passphrase 18')
  await seat.getByTestId('nav-inbox').click()
  await seat.getByTestId('conversation-item').first().waitFor()
  assert.equal(await seat.getByTestId('seat-link-banner').count(), 0)

  // The primary dies (a power cut): the seat says so, and a call fails at once.
  ui.server.removeAllListeners('exit')
  const killed = new Promise((r) => ui.server.once('exit', r))
  ui.server.kill('SIGKILL')
  await killed
  const banner = seat.getByTestId('seat-link-banner')
  await banner.waitFor()
  assert.equal((await banner.innerText()).trim(), '親機に接続できません。親機の電源とネットワークを確認してください。再接続を試みています…')
  const started = Date.now()
  const failed = await seat.evaluate(async () => {
    const r = await fetch('/api/call/Conversations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' })
    return { ok: r.ok, body: await r.json() }
  })
  assert.deepEqual(failed, { ok: false, body: { error: 'errors.primaryAway' } })
  assert.ok(Date.now() - started < 10_000, 'the call waited instead of failing at once')
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-away-ja.png') })

  // The primary is back on its address: the banner goes; its sessions ended
  // with it, so the clerk signs in again, on the same seat process.
  const primaryFiles = mkdtempSync(join(tmpdir(), 'tsunagu-ui-primary-files-'))
  const again = await devserver(['--data-dir', ui.dataDir, '--seat-listen', seatAddr, '--save-dir', primaryFiles])
  ui.server = again.child
  await banner.waitFor({ state: 'detached', timeout: 60_000 })
  await signIn(seat, 'madoguchi', 'madoguchi passphrase 18')
  await seat.getByTestId('nav-inbox').click()
  await seat.getByTestId('conversation-item').first().waitFor()
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-back-ja.png') })

  // Files on a seat are the seat's: the administrator at this seat exports
  // the customers; the seat's own dialog puts the file in the seat's
  // folder, and the primary writes none (its save folder stays empty).
  await seat.evaluate(() => fetch('/api/call/SignOut', { method: 'POST', body: '[]' }))
  await seat.reload()
  await signIn(seat, 'tanaka', 'correct horse battery 1')
  await seat.getByTestId('nav-customers').click()
  await seat.getByTestId('export-customers').click()
  const exportDone = seat.locator('.n-message', { hasText: '件を書き出しました' })
  await seat.getByTestId('toast-error').or(exportDone).first().waitFor()
  assert.equal(await seat.getByTestId('toast-error').count(), 0, `the seat's export failed: ${await seat.getByTestId('toast-error').allInnerTexts()}`)
  const saved = readdirSync(seatFiles)
  assert.equal(saved.length, 1, `the seat's folder: ${saved}`)
  assert.match(saved[0], /^customers-\d{8}\.csv$/)
  assert.match(readFileSync(join(seatFiles, saved[0]), 'utf8'), /^\uFEFF顧客番号,氏名/)
  assert.ok((await exportDone.first().innerText()).includes(join(seatFiles, saved[0])), 'the message names the file on the seat')
  assert.deepEqual(readdirSync(primaryFiles), [], 'the primary saved a file for the seat')
  // The message (with the seat's path) on the screenshot: no settle.
  await seat.mouse.move(0, 0)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-export-ja.png') })
  await settle(seat)

  // English: the banner is translated too.
  await seat.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
  await seat.reload()
  await seat.getByTestId('nav-inbox').waitFor()
  // The seat's name and the calm line in English (About: every role).
  assert.equal((await seatName.innerText()).trim(), 'Seat: 窓口2')
  await seat.getByTestId('nav-about').click()
  assert.equal((await updateCard.getByTestId('primary-only').innerText()).trim(), 'This is set on the primary PC.')
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-seat-about-en.png') })
  ui.server.removeAllListeners('exit')
  const killedAgain = new Promise((r) => ui.server.once('exit', r))
  ui.server.kill('SIGKILL')
  await killedAgain
  ui.server = undefined // nothing left for the harness to stop
  await banner.waitFor()
  assert.match(await banner.innerText(), /^Cannot reach the primary PC\./)
  await settle(seat)
  await seat.screenshot({ path: join(artifactsDir, 'seatlink-away-en.png') })
  assert.deepEqual(ui.pageErrors, [])
})
