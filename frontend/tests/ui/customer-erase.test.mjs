// End-to-end UI test: an administrator erases a customer on their request
// (APPI) from the customer card: the confirmation names the customer number,
// the customer leaves the list and the other customer stays.
//
// Runs the real dev bridge (Go) serving the built frontend, drives Debian's
// Chromium through playwright-core, and saves screenshots for review.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync, writeFileSync } from 'node:fs'
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

const CSV = '顧客番号,氏名,携帯電話,メールアドレス,店番\n' + '2001,消去　花子,090-8765-4321,hanako@example.jp,001\n' + '2002,残存　太郎,090-1111-2222,taro@example.jp,001\n'

let server
let serverOutput = ''
let dataDir
let filesDir
let csvPath
let baseUrl
let browser
let page
const pageErrors = []

function startDevserver(bin) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      bin,
      ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--static', distDir, '--pick-file', csvPath, '--save-dir', filesDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
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
  mkdirSync(artifactsDir, { recursive: true })

  dataDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-erase-'))
  filesDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-files-'))
  csvPath = join(filesDir, 'customers.csv')
  writeFileSync(csvPath, CSV)
  baseUrl = await startDevserver(bin)

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo', deviceScaleFactor: 1 })
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
  if (filesDir) rmSync(filesDir, { recursive: true, force: true })
})

async function shot(name) {
  await page.screenshot({ path: join(artifactsDir, name), fullPage: false })
}

/** Signs in: the first administrator on a fresh data folder. */
async function signInFirstAdmin() {
  await page.goto(`${baseUrl}/`)
  const form = page.getByTestId('firstrun-form')
  await form.waitFor({ state: 'visible' })
  await page.getByTestId('firstrun-login').fill('tanaka')
  await page.getByTestId('firstrun-name').fill('田中 支店長')
  await page.getByTestId('firstrun-password').fill('correct horse battery 1')
  await page.getByTestId('firstrun-confirm').fill('correct horse battery 1')
  await page.getByTestId('firstrun-submit').click()
  const stored = page.getByTestId('recovery-stored')
  const nav = page.getByTestId('nav-import')
  await Promise.race([stored.waitFor({ state: 'visible' }), nav.waitFor({ state: 'visible' })])
  if (await stored.isVisible()) {
    await stored.click()
    await page.getByTestId('recovery-done').click()
  }
  await nav.waitFor({ state: 'visible' })
}

test('an administrator erases a customer from the card', async () => {
  await signInFirstAdmin()

  await page.getByTestId('nav-import').click()
  await page.getByTestId('import-view').waitFor()
  await page.getByTestId('import-pick').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="import-path"]')?.value.endsWith('.csv'))
  await page.waitForFunction(() => !document.querySelector('[data-testid="import-next"]')?.disabled)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-step-mapping').waitFor()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
  await page.getByTestId('import-to-customers').click()
  await page.getByTestId('customers-view').waitFor()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 2)

  await page.locator('[data-testid="customer-row"][data-number="2001"]').click()
  await page.getByTestId('customer-card').waitFor()
  assert.equal(await page.getByTestId('card-name').innerText(), '消去 花子')
  await page.getByTestId('card-erase').click()
  const dialog = page.locator('.n-dialog')
  await dialog.waitFor()
  assert.match(await dialog.innerText(), /顧客 2001 を消去しますか？/)
  assert.match(await dialog.innerText(), /元に戻せません/)
  await page.waitForTimeout(300) // the dialog's transition
  await shot('customers-erase-confirm-ja.png')

  // Cancel keeps the customer; confirming erases it.
  await dialog.getByRole('button', { name: 'キャンセル' }).click()
  await dialog.waitFor({ state: 'detached' })
  assert.equal(await page.getByTestId('customer-row').count(), 2)
  await page.getByTestId('card-erase').click()
  await page.locator('.n-dialog').getByRole('button', { name: '消去する' }).click()
  await page.getByTestId('customer-card').waitFor({ state: 'detached' })
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 1)
  assert.equal(await page.getByTestId('customer-row').first().getAttribute('data-number'), '2002')
  await page.getByTestId('customer-search').fill('090-8765-4321')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="customer-row"]').length === 0)
  await shot('customers-erased-ja.png')

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
