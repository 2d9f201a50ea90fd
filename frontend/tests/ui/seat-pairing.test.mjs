// Branch seats (issue 18), the window's side: the primary's administrator
// issues a seat code on the staff screen (shown large with its QR code, the
// primary's fingerprint and the 10 minutes counting down); a second dev
// bridge on a fresh data folder plays the new PC, whose first screen offers
// 「支店の親機に接続する」: a wrong address and a wrong code are marked on
// their fields, the primary's fingerprint is shown large before the code is
// sent, and the pairing succeeds against the primary's real seat port on
// loopback. The primary lists the seat and revokes it after a confirmation
// saying what happens. One English pass of both screens.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin, settle, distDir, artifactsDir, mustCall } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-seatadmin-' })
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/

/** A free loopback port for the seat port (not 7443: other tests may run). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** The new PC: a second dev bridge on a fresh data folder of its own. */
function startNewPC(dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.TSUNAGU_DEVSERVER, ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--static', distDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    const timer = setTimeout(() => reject(new Error(`new PC's devserver printed no LISTEN line within 30 s:\n${out}`)), 30_000)
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (c) => (out += c))
    child.stdout.on('data', (c) => {
      out += c
      const m = out.match(/^LISTEN (http:\/\/\S+)\s*$/m)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: m[1].replace(/\/$/, ''), output: () => out })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`new PC's devserver exited (${code}):\n${out}`))
    })
  })
}

async function stop(child) {
  if (child.exitCode !== null) return
  child.removeAllListeners('exit')
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

test('seat code on the primary, 「支店の親機に接続する」 on a new PC, list and revoke', async () => {
  const { page } = ui
  const newDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-newseat-'))
  let pc
  try {
    await signInFirstAdmin(ui)
    await page.getByTestId('nav-staff').click()
    const panel = page.getByTestId('seat-admin')
    await panel.scrollIntoViewIfNeeded()
    await panel.getByText('子機の受付は停止中です').waitFor()
    assert.equal(await page.getByTestId('seat-none').innerText(), 'まだ子機はありません。')

    // The seat port on a free port, then a code for 窓口2.
    const port = await freePort()
    await page.getByTestId('seat-port').fill(String(port))
    await page.getByTestId('seat-port-save').click()
    await page.getByText(`受付ポートを ${port} にしました。`).waitFor()
    await page.getByTestId('seat-issue').click()
    assert.match(await panel.locator('.n-form-item-feedback').first().innerText(), /入力してください/, 'an empty name is marked on its field')
    await page.getByTestId('seat-name').fill('窓口2')
    await page.getByTestId('seat-issue').click()
    const offer = page.getByTestId('seat-offer')
    await offer.waitFor()
    const code = (await page.getByTestId('seat-offer-code').innerText()).trim()
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/)
    const primaryFp = (await page.getByTestId('seat-offer-fingerprint').innerText()).trim()
    assert.match(primaryFp, /^\d{4}-\d{4}-\d{4}-\d{4}$/)
    assert.equal((await page.getByTestId('seat-offer-addrs').innerText()).trim(), `127.0.0.1:${port}`)
    assert.match(await page.getByTestId('seat-offer-countdown').innerText(), /^あと (10:00|9:[0-5]\d) で無効になります/)
    const qrWidth = await page.getByTestId('seat-offer-qr').evaluate((img) => img.complete && img.naturalWidth)
    assert.ok(qrWidth > 100, `the QR code is an image (${qrWidth})`)
    await page.getByTestId('seat-port-state').getByText(`127.0.0.1:${port}`).waitFor()
    // The Windows firewall rule: off Windows the panel says none is needed
    // and offers no button (on Windows: its state and 「ファイアウォールの許可を追加」).
    await page.getByTestId('seat-firewall-state').getByText('この OS では、アプリからファイアウォールの設定をする必要はありません。').waitFor()
    assert.equal(await page.getByTestId('seat-firewall-allow').count(), 0)
    await offer.scrollIntoViewIfNeeded()
    await settle(page)
    await ui.shot('seat-admin-code.png')

    // The new PC: its first screen offers connecting to the primary.
    pc = await startNewPC(newDir)
    const ctx = await ui.browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' })
    const seat = await ctx.newPage()
    seat.setDefaultTimeout(15_000)
    seat.on('pageerror', (err) => ui.pageErrors.push(`new PC: ${err}`))
    await seat.goto(`${pc.url}/`)
    await seat.getByTestId('firstrun-form').waitFor()
    await seat.getByTestId('firstrun-connect-primary').click()
    await seat.getByTestId('seatpair-form').waitFor()
    await seat.getByTestId('seatpair-none').waitFor() // discovery is off in the dev bridge: no packet to the LAN
    await settle(seat)
    await shotOf(seat, 'seat-pair-form.png')

    // Nothing listens at the address: marked on the address field.
    await seat.getByTestId('seatpair-addr').fill('127.0.0.1:1')
    await seat.getByTestId('seatpair-code').fill(code.toLowerCase().replace('-', ''))
    await seat.getByTestId('seatpair-next').click()
    const addrItem = seat.locator('.n-form-item').filter({ has: seat.getByTestId('seatpair-addr') })
    await addrItem.getByText('接続できませんでした').waitFor()
    assert.equal(await seat.getByTestId('seatpair-confirm').count(), 0)

    // The right address and a wrong code: the fingerprint is shown first,
    // the primary refuses the code, the code field says so.
    await seat.getByTestId('seatpair-addr').fill(`127.0.0.1:${port}`)
    await seat.getByTestId('seatpair-code').fill('00000-00000')
    await seat.getByTestId('seatpair-next').click()
    await seat.getByTestId('seatpair-confirm').waitFor()
    assert.equal((await seat.getByTestId('seatpair-fingerprint').innerText()).trim(), primaryFp, 'the seat shows the fingerprint the primary shows')
    await settle(seat)
    await shotOf(seat, 'seat-pair-confirm.png')
    await seat.getByTestId('seatpair-connect').click()
    await seat.getByTestId('seatpair-form').waitFor()
    const codeItem = seat.locator('.n-form-item').filter({ has: seat.getByTestId('seatpair-code') })
    await codeItem.getByText('受け付けられませんでした').waitFor()
    assert.equal(await seat.getByTestId('seatpair-addr').inputValue(), `127.0.0.1:${port}`, 'what was typed stays')
    await settle(seat)
    await shotOf(seat, 'seat-pair-wrong-code.png')

    // The code as typed from the screen, lower case without the hyphen.
    await seat.getByTestId('seatpair-code').fill(code.toLowerCase().replace('-', ''))
    await seat.getByTestId('seatpair-next').click()
    await seat.getByTestId('seatpair-connect').click()
    await seat.getByTestId('seatpair-done').waitFor()
    const seatFp = (await seat.getByTestId('seatpair-seat-fingerprint').innerText()).trim()
    assert.match(seatFp, /^\d{4}-\d{4}-\d{4}-\d{4}$/)
    assert.match(await seat.locator('.auth-card').innerText(), /アプリを再起動すると、子機として親機に接続して使えます/)
    assert.ok(existsSync(join(newDir, 'seat.json')), 'the new PC is a seat')
    assert.ok(!existsSync(join(newDir, 'tsunagu.db')), 'the new PC keeps no database')
    await settle(seat)
    await shotOf(seat, 'seat-pair-done.png')

    // The primary lists 窓口2 with the seat's fingerprint.
    await page.reload()
    await page.getByTestId('nav-staff').click()
    const row = page.getByTestId('seat-row').filter({ hasText: '窓口2' })
    await row.waitFor()
    assert.ok((await row.innerText()).includes(seatFp))
    assert.match(await row.innerText(), /\d{4}年\d{1,2}月\d{1,2}日/, 'the paired date in Japanese')
    assert.equal(await row.getByTestId('seat-row-state').innerText(), '未接続')

    // English pass of the primary's panel (the list).
    await page.getByTestId('lang-en').click()
    await settle(page)
    const enPanel = await page.getByTestId('seat-admin').locator('h3, h4, th, button, .hint, .state, [data-testid=seat-row-state]').allInnerTexts()
    const untranslated = enPanel.filter((w) => JAPANESE.test(w.replace('窓口2', '')))
    assert.deepEqual(untranslated, [], 'Japanese left in the English seat panel')
    await page.getByTestId('seat-admin').scrollIntoViewIfNeeded()
    await ui.shot('seat-admin-list-en.png')
    await page.getByTestId('lang-ja').click()
    await settle(page)

    // Revoke, after a confirmation that says what happens.
    await row.getByTestId('seat-revoke').click()
    const confirm = page.getByTestId('seat-revoke-confirm')
    await confirm.waitFor()
    assert.equal(await confirm.innerText(), '窓口2 は直ちに切断され、再び接続するには新しい接続コードが必要です。')
    await settle(page)
    await ui.shot('seat-admin-revoke.png')
    await page.getByTestId('seat-revoke-ok').click()
    await page.getByTestId('seat-none').waitFor()
    const actions = (await mustCall(page, 'AuditEntries', { action: 'seat.', limit: 20 })).entries.map((e) => e.action)
    assert.ok(actions.includes('seat.revoke') && actions.includes('seat.pair') && actions.includes('seat.code'), `audited: ${actions}`)

    // English pass of the new PC's screen (a second fresh PC would be needed
    // to pair again; the form itself is what is checked).
    const pc2Dir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-newseat2-'))
    const pc2 = await startNewPC(pc2Dir)
    try {
      await seat.goto(`${pc2.url}/`)
      await seat.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
      await seat.reload()
      await seat.getByTestId('firstrun-connect-primary').click()
      await seat.getByTestId('seatpair-form').waitFor()
      await seat.getByTestId('seatpair-none').waitFor()
      await seat.getByTestId('seatpair-addr').fill('999.1.1.1:99999')
      await seat.getByTestId('seatpair-code').fill('7KQ2M')
      await seat.getByTestId('seatpair-next').click()
      await seat.locator('.n-form-item-feedback').filter({ hasText: 'expected form' }).nth(1).waitFor() // both the address and the code
      const words = await seat.locator('.auth-card').innerText()
      assert.ok(!JAPANESE.test(words), `Japanese left in the English seat form: ${words}`)
      await settle(seat)
      await shotOf(seat, 'seat-pair-form-en.png')
    } finally {
      await stop(pc2.child)
      rmSync(pc2Dir, { recursive: true, force: true })
    }
    await ctx.close()
    assert.deepEqual(ui.pageErrors, [])
  } finally {
    if (pc) await stop(pc.child)
    rmSync(newDir, { recursive: true, force: true })
  }
})

async function shotOf(p, name) {
  await p.screenshot({ path: join(artifactsDir, name), fullPage: false })
}
