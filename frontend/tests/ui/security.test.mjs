// End-to-end UI test of access control: first-run administrator and
// recovery code, staff management, the audit viewer, the lock screen, and an
// operator whose forbidden action is refused by the Go side.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const frontendDir = resolve(here, '..', '..')
const repoRoot = resolve(frontendDir, '..')
const distDir = join(frontendDir, 'dist')
const artifactsDir = join(repoRoot, 'test-artifacts', 'ui')
const CHROMIUM = process.env.TSUNAGU_CHROMIUM || '/usr/bin/chromium'

const ADMIN_PASSWORD = 'branch manager passphrase'
const OPERATOR_PASSWORD = 'operator passphrase 1'

let server
let serverOutput = ''
let dataDir
let baseUrl
let browser
let page
const pageErrors = []

function startDevserver(bin) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--static', distDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    server = child
    const timer = setTimeout(() => reject(new Error(`devserver printed no LISTEN line within 30 s. Output:\n${serverOutput}`)), 30_000)
    let buf = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      serverOutput += chunk
      buf += chunk
      const m = buf.match(/^LISTEN (http:\/\/\S+)\s*$/m)
      if (m) {
        clearTimeout(timer)
        resolvePromise(m[1].replace(/\/$/, ''))
      }
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk) => (serverOutput += chunk))
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`devserver exited early (code ${code}, signal ${signal}). Output:\n${serverOutput}`))
    })
  })
}

before(async () => {
  const bin = process.env.TSUNAGU_DEVSERVER
  assert.ok(bin, 'TSUNAGU_DEVSERVER is not set: point it at the dev bridge binary. Refusing to skip.')
  assert.ok(existsSync(bin), `TSUNAGU_DEVSERVER=${bin} does not exist`)
  assert.ok(existsSync(join(distDir, 'index.html')), `${distDir}/index.html is missing; run "npm run build" first.`)
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`)
  dataDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-sec-'))
  baseUrl = await startDevserver(bin)
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' })
  page = await context.newPage()
  page.setDefaultTimeout(15_000)
  page.on('pageerror', (err) => pageErrors.push(String(err)))
})

after(async () => {
  await browser?.close().catch(() => {})
  if (server && server.exitCode === null) {
    server.removeAllListeners('exit')
    const exited = new Promise((r) => server.once('exit', r))
    server.kill('SIGTERM')
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

async function signIn(login, password) {
  await page.getByTestId('signin-login').fill(login)
  await page.getByTestId('signin-password').fill(password)
  await page.getByTestId('signin-submit').click()
}

test('sign-in, staff, audit trail, lock and a forbidden action', async () => {
  mkdirSync(artifactsDir, { recursive: true })
  await page.goto(`${baseUrl}/`)

  // Nothing but the first-run form before an administrator exists; the Go
  // side refuses data calls without a session.
  await page.getByTestId('firstrun-form').waitFor()
  assert.equal(await page.getByTestId('conversation-list').count(), 0)
  const unsigned = await page.evaluate(async () => {
    const r = await fetch('/api/call/Conversations', { method: 'POST', body: '[]' })
    return { status: r.status, body: await r.json() }
  })
  assert.deepEqual(unsigned, { status: 400, body: { error: 'errors.signInRequired' } })

  await page.getByTestId('firstrun-login').fill('admin')
  await page.getByTestId('firstrun-name').fill('支店長 佐藤')
  await page.getByTestId('firstrun-password').fill(ADMIN_PASSWORD)
  await page.getByTestId('firstrun-confirm').fill('something else')
  await page.getByTestId('firstrun-submit').click()
  await page.getByTestId('firstrun-error').filter({ hasText: '一致しません' }).waitFor()
  await page.getByTestId('firstrun-password').fill(ADMIN_PASSWORD)
  await page.getByTestId('firstrun-confirm').fill(ADMIN_PASSWORD)
  await page.getByTestId('firstrun-submit').click()

  // The recovery code is shown once; continuing needs the confirmation.
  const code = await page.getByTestId('recovery-code').innerText()
  assert.match(code.trim(), /^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/)
  await page.screenshot({ path: join(artifactsDir, 'security-recovery-code-ja.png') })
  assert.equal(await page.getByTestId('recovery-done').isDisabled(), true)
  await page.getByTestId('recovery-stored').click()
  await page.getByTestId('recovery-done').click()
  await page.getByTestId('staff-role').filter({ hasText: '管理者' }).waitFor()

  // Staff management: add an operator.
  await page.getByTestId('nav-staff').click()
  await page.getByTestId('new-staff-login').fill('tanaka')
  await page.getByTestId('new-staff-name').fill('田中 一郎')
  await page.getByTestId('new-staff-password').fill(OPERATOR_PASSWORD)
  await page.getByTestId('staff-create').click()
  await page.locator('[data-testid="staff-row"][data-login="tanaka"]').waitFor()
  await page.screenshot({ path: join(artifactsDir, 'security-staff-ja.png') })

  // The audit viewer shows the chain intact and what happened.
  await page.getByTestId('nav-audit').click()
  await page.getByTestId('audit-chain').filter({ hasText: '改ざんは検出されていません' }).waitFor()
  await page.locator('[data-testid="audit-row"][data-action="staff.create"]').waitFor()
  await page.locator('[data-testid="audit-row"][data-action="staff.first_admin"]').waitFor()
  await page.screenshot({ path: join(artifactsDir, 'security-audit-ja.png') })

  // Lock: customer data leaves the page until the password is re-entered.
  await page.getByTestId('nav-inbox').click()
  await page.getByTestId('conversation-list').or(page.getByTestId('inbox-empty')).first().waitFor()
  await page.getByTestId('lock-now').click()
  await page.getByTestId('lock-screen').waitFor()
  assert.equal(await page.getByTestId('conversation-list').count(), 0, 'no inbox behind the lock screen')
  assert.equal(await page.getByTestId('phone-panel').count(), 0)
  const locked = await page.evaluate(async () => (await (await fetch('/api/call/Conversations', { method: 'POST', body: '[]' })).json()).error)
  assert.equal(locked, 'errors.sessionLocked')
  await page.screenshot({ path: join(artifactsDir, 'security-locked-ja.png') })
  await page.getByTestId('unlock-password').fill('not the password')
  await page.getByTestId('unlock-submit').click()
  await page.getByTestId('unlock-error').filter({ hasText: '正しくありません' }).waitFor()
  await page.getByTestId('unlock-password').fill(ADMIN_PASSWORD)
  await page.getByTestId('unlock-submit').click()
  await page.getByTestId('conversation-list').or(page.getByTestId('inbox-empty')).first().waitFor()

  // Sign out, sign in as the operator: no staff or audit screens, and the
  // Go side refuses what the role may not do even when called directly.
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await signIn('tanaka', 'wrong password')
  await page.getByTestId('signin-error').filter({ hasText: '正しくありません' }).waitFor()
  await signIn('tanaka', OPERATOR_PASSWORD)
  await page.getByTestId('staff-role').filter({ hasText: '担当者' }).waitFor()
  assert.equal(await page.getByTestId('nav-staff').count(), 0)
  assert.equal(await page.getByTestId('nav-audit').count(), 0)
  const forbidden = await page.evaluate(async () => {
    const r = await fetch('/api/call/ListStaff', { method: 'POST', body: '[]' })
    return (await r.json()).error
  })
  assert.equal(forbidden, 'errors.forbidden')

  // A forbidden action through the UI: an operator may not change the LINE
  // channel; the refusal is explained.
  await page.getByTestId('open-settings').click()
  await page.getByTestId('settings-secret').fill('0123456789abcdef0123456789abcdef')
  await page.getByTestId('settings-token').fill('operator-should-not-be-able-to-set-this-token')
  await page.getByTestId('settings-save').click()
  await page.getByText('この操作を行う権限がありません。').first().waitFor()
  await page.screenshot({ path: join(artifactsDir, 'security-forbidden-ja.png') })

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')

  // The server's logs (failed sign-ins and forbidden calls are logged)
  // hold none of the passwords, the recovery code or the credentials typed.
  assert.match(serverOutput, /forbidden call/, 'the forbidden call was logged, so the scan below means something')
  for (const [what, v] of Object.entries({
    'admin password': ADMIN_PASSWORD,
    'operator password': OPERATOR_PASSWORD,
    'recovery code': code.trim(),
    'channel token': 'operator-should-not-be-able-to-set-this-token',
    'channel secret': '0123456789abcdef0123456789abcdef',
  })) {
    assert.ok(!serverOutput.includes(v), `the devserver log contains the ${what}`)
  }
})
