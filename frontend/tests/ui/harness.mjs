// Shared set-up for the end-to-end UI tests in this folder (not a test
// itself: node --test only runs *.test.mjs here).
//
// Each test file calls useUiHarness() at top level. That registers the
// before/after hooks which check the environment (refusing to skip when
// TSUNAGU_DEVSERVER is not set), start the real dev bridge (Go) on a fresh
// data folder serving the built frontend, collect everything it prints, and
// launch Debian's Chromium through playwright-core (or connect to the one
// run.mjs shares, TSUNAGU_CHROMIUM_WS); and then shut both down
// and remove the temporary folders.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, resolve, basename } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const frontendDir = resolve(here, '..', '..')
const repoRoot = resolve(frontendDir, '..')
// TSUNAGU_DIST: a frontend built elsewhere (vite build --outDir DIR), so that
// several builds can be tested side by side without clobbering dist/.
export const distDir = process.env.TSUNAGU_DIST || join(frontendDir, 'dist')
export const artifactsDir = join(repoRoot, 'test-artifacts', 'ui')
const CHROMIUM = process.env.TSUNAGU_CHROMIUM || '/usr/bin/chromium'
// Chromium's browser UI that a headless test never shows: the omnibox's
// WebUI popups are otherwise loaded in their own renderer at every launch
// (measured: the launch and first page took 3.6 CPU-s of Chromium with them,
// 1.7 without; 44 files launch it). The page under test is the same.
const BROWSER_UI_OFF = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'WebUIOmniboxFullPopup']
// Set by run.mjs: the ws endpoint of the one Chromium all files share. Unset
// (a file run alone by node --test), the file launches its own.
const SHARED_WS = process.env.TSUNAGU_CHROMIUM_WS

/** Whether the shared browser still makes a context (within 30 s). */
async function sharedBrowserAnswers(browser) {
  let timer
  const late = new Promise((r) => (timer = setTimeout(() => r(false), 30_000)))
  const probe = browser.newContext().then(
    (c) => c.close().then(() => true, () => true),
    () => false,
  )
  try {
    return await Promise.race([probe, late])
  } finally {
    clearTimeout(timer)
  }
}

/** How Chromium is launched, by a file alone (chromium.launch) and by run.mjs
 *  for all files (chromium.launchServer). Nothing here may depend on a file:
 *  what a file needs (locale, time zone, viewport, permissions) goes into its
 *  browser context. */
export function chromiumLaunchOptions() {
  return {
    // chromium.sh merges Playwright's --disable-features with ours.
    executablePath: join(here, 'chromium.sh'),
    headless: true,
    // Chromium needs no session bus; keep it off the keyring session's bus
    // (which would otherwise start desktop portals and log noise).
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:', TSUNAGU_CHROMIUM_REAL: CHROMIUM },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--disable-features=${BROWSER_UI_OFF.join(',')}`,
    ],
  }
}

// Where a file's time goes, printed as it goes (node --test shows a test
// file's own output lines beside its results, so CI logs keep them):
//   ui-time <file> <ms since the file's process started> <step> <ms the step took>
// and at the end the file's waits in ms: fixed sleeps (waitForTimeout, also
// those inside the next two), settle() waiting for toasts to go, sentTo()
// waiting for a message; and when the file ended.
const fileName = basename(process.argv[1] ?? 'ui')
let lastMark = 0
export function mark(step) {
  const now = performance.now()
  console.log(`ui-time ${fileName} ${Math.round(now)} ${step} ${Math.round(now - lastMark)}`)
  lastMark = now
}
const waits = { sleep: 0, settle: 0, sentTo: 0 }
function waited(kind, since) {
  waits[kind] += performance.now() - since
}

/** Starts the bridge and resolves with its URL from the `LISTEN http://…` line;
 * everything it prints on stdout and stderr is appended to ui.serverOutput. */
function startDevserver(ui, bin, args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, ['--data-dir', ui.dataDir, '--listen', '127.0.0.1:0', '--static', distDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    ui.server = child
    const timer = setTimeout(() => reject(new Error(`devserver printed no LISTEN line within 30 s. Output:\n${ui.serverOutput}`)), 30_000)
    let buf = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      ui.serverOutput += chunk
      buf += chunk
      const m = buf.match(/^LISTEN (http:\/\/\S+)\s*$/m)
      if (m) {
        clearTimeout(timer)
        resolvePromise(m[1].replace(/\/$/, ''))
      }
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk) => (ui.serverOutput += chunk))
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`devserver exited early (code ${code}, signal ${signal}). Output:\n${ui.serverOutput}`))
    })
  })
}

/** Stops the bridge (SIGTERM, then SIGKILL after 5 s) and waits for it. */
async function stopDevserver(ui) {
  const server = ui.server
  if (server && server.exitCode === null) {
    server.removeAllListeners('exit')
    const exited = new Promise((r) => server.once('exit', r))
    server.kill('SIGTERM')
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
}

/** Restarts the bridge on the same data folder, as a restart of the app
 * would (e.g. after the test changed the keychain under it). Its port is
 * new: ui.baseUrl changes, so go to it again. */
export async function restartDevserver(ui) {
  await stopDevserver(ui)
  // The app's time never runs backwards over a restart.
  const ahead = ui.clockAhead ? [`--clock-ahead=${ui.clockAhead}s`] : []
  ui.baseUrl = await startDevserver(ui, ui.devserver.bin, [...ui.devserver.args, ...ahead])
}

/** Moves the app's clock forward by seconds (the dev bridge's
 *  --movable-clock) and runs the automation scheduler's pass at once: a
 *  reminder's send time or the idle lock is reached without waiting. */
export async function advanceClock(ui, seconds) {
  const r = await fetch(`${ui.baseUrl}/api/test/clock`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ advanceSeconds: seconds }),
  })
  assert.ok(r.ok, `moving the clock: ${r.status} ${await r.text()}`)
  ui.clockAhead = (ui.clockAhead ?? 0) + seconds
  if (ui.browserClock) await ui.context.clock.fastForward(seconds * 1000)
}

/**
 * Registers the before/after hooks and returns the shared state, filled in
 * by the before hook: { page, baseUrl, serverOutput, pageErrors, dataDir,
 * filesDir, csvPath, shot(name) }.
 *
 * @param {object} opts
 * @param {string} opts.dataPrefix  prefix of the temporary data folder
 * @param {{ name: string, contents: string | Buffer }} [opts.pickFile] a file
 *   written into a fresh temporary folder (ui.filesDir, its path is
 *   ui.csvPath) that the bridge's file dialog answers (--pick-file); saved
 *   files go to the same folder (--save-dir)
 * @param {string[]} [opts.devserverArgs] more flags for the dev bridge
 * @param {boolean} [opts.browserClock] the page's clock is Playwright's, and
 *   advanceClock moves it too (a test of the idle lock)
 */
export function useUiHarness({ dataPrefix, pickFile, devserverArgs = [], browserClock = false } = {}) {
  const ui = {
    server: undefined,
    serverOutput: '',
    dataDir: undefined,
    filesDir: undefined,
    csvPath: undefined,
    baseUrl: undefined,
    browser: undefined,
    page: undefined,
    pageErrors: [],
    /** Saves a screenshot of the viewport as test-artifacts/ui/<name>. */
    async shot(name) {
      await ui.page.screenshot({ path: join(artifactsDir, name), fullPage: false })
    },
  }

  before(async () => {
    const bin = process.env.TSUNAGU_DEVSERVER
    assert.ok(
      bin,
      'TSUNAGU_DEVSERVER is not set: point it at the dev bridge binary (make builds build/bin/tsunagu-devserver). Refusing to skip.',
    )
    assert.ok(existsSync(bin), `TSUNAGU_DEVSERVER=${bin} does not exist; build it first (go build -o build/bin/tsunagu-devserver ./app/devserver).`)
    assert.ok(existsSync(join(distDir, 'index.html')), `${distDir}/index.html is missing; run "npm run build" in frontend/ first.`)
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium).`)
    mkdirSync(artifactsDir, { recursive: true })

    ui.dataDir = mkdtempSync(join(tmpdir(), dataPrefix))
    // --movable-clock: advanceClock() reaches a send time or the idle lock
    // without waiting for it. --cheap-kdf: passwords and recovery codes at
    // the Go tests' argon2id cost (what ships is tested in Go), since every
    // file signs in and creates staff many times.
    const extraArgs = ['--movable-clock', '--cheap-kdf', ...devserverArgs] // e.g. --update-policy FILE (about.test.mjs)
    if (pickFile) {
      ui.filesDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-files-'))
      ui.csvPath = join(ui.filesDir, pickFile.name)
      writeFileSync(ui.csvPath, pickFile.contents)
      extraArgs.push('--pick-file', ui.csvPath, '--save-dir', ui.filesDir)
    }
    ui.devserver = { bin, args: extraArgs }
    mark('setup')
    ui.baseUrl = await startDevserver(ui, bin, extraArgs)
    mark('devserver-listen')

    if (SHARED_WS) {
      // run.mjs's one Chromium (TSUNAGU_CHROMIUM_WS): this file gets its own
      // contexts in it, as isolated as its own browser (cookies, storage,
      // permissions, clock are per context) for ~1.7 CPU-s less a file.
      ui.browser = await chromium.connect(SHARED_WS, { timeout: 60_000 })
    } else {
      ui.browser = await chromium.launch(chromiumLaunchOptions())
    }
    mark('chromium-launch')
    const context = await ui.browser.newContext(branchPC)
    ui.context = context
    ui.browserClock = browserClock
    // The page's timers and Date under Playwright's clock, so advanceClock
    // moves the browser's time (the idle check) with the app's.
    if (browserClock) await context.clock.install()
    ui.page = await context.newPage()
    ui.page.setDefaultTimeout(15_000)
    ui.page.on('pageerror', (err) => ui.pageErrors.push(String(err)))
    const sleep = ui.page.waitForTimeout.bind(ui.page)
    ui.page.waitForTimeout = async (ms) => {
      const t = performance.now()
      try {
        return await sleep(ms)
      } finally {
        waited('sleep', t)
      }
    }
    mark('page-ready')
  })

  after(async () => {
    mark('tests')
    // Is the shared browser still there? When it dies, the connection stays
    // up (no 'disconnected' until close(), checked) and only the pages
    // close: a new context is the probe.
    if (SHARED_WS && ui.browser) ui.browserLost = !(await sharedBrowserAnswers(ui.browser))
    // Connected: closes this file's contexts and the connection, not the
    // shared browser.
    await ui.browser?.close().catch(() => {})
    mark('chromium-close')
    await stopDevserver(ui)
    mark('devserver-stop')
    if (ui.dataDir) rmSync(ui.dataDir, { recursive: true, force: true })
    if (ui.filesDir) rmSync(ui.filesDir, { recursive: true, force: true })
    const ms = (k) => Math.round(waits[k])
    // The clock time at the end: which files finished last (the run's tail).
    const at = new Date().toISOString().slice(11, 19)
    console.log(`ui-time ${fileName} ${Math.round(performance.now())} waits: sleep ${ms('sleep')} settle ${ms('settle')} sentTo ${ms('sentTo')}, ended ${at} UTC`)
    // A test that was running when the shared browser went away failed on
    // its closed page already ("Browser closed"); this names the cause, and
    // fails the file even if its last test had just finished.
    assert.ok(!ui.browserLost, `the shared Chromium (run.mjs, ${SHARED_WS}) went away while ${fileName} was using it: see run.mjs's "shared Chromium exited" line`)
  })

  return ui
}

// The common branch PC: every screen is tested at 1366×768 unless a test
// says otherwise.
const branchPC = { viewport: { width: 1366, height: 768 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo', deviceScaleFactor: 1 }

/** A second browser playing a seat PC named seat (issue 18): its own
 *  session on the same devserver, beside ui.page (the window). */
export async function openSeat(ui, seat) {
  const context = await ui.browser.newContext(branchPC)
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  page.on('pageerror', (err) => ui.pageErrors.push(`${seat}: ${err}`))
  await page.goto(`${ui.baseUrl}/?seat=${encodeURIComponent(seat)}`)
  return page
}

/** Fills in and submits the first-run form (creating the first administrator). */
export async function submitFirstRun(page, { login, name, password, confirm = password }) {
  await page.getByTestId('firstrun-login').fill(login)
  await page.getByTestId('firstrun-name').fill(name)
  await page.getByTestId('firstrun-password').fill(password)
  await page.getByTestId('firstrun-confirm').fill(confirm)
  await page.getByTestId('firstrun-submit').click()
}

/** Signs in: the first administrator on a fresh data folder, past the
 * recovery code if it is shown, until the import navigation is there. */
export async function signInFirstAdmin(ui) {
  const { page } = ui
  await page.goto(`${ui.baseUrl}/`)
  const form = page.getByTestId('firstrun-form')
  await form.waitFor({ state: 'visible' })
  await submitFirstRun(page, { login: 'tanaka', name: '田中 支店長', password: 'correct horse battery 1' })
  const stored = page.getByTestId('recovery-stored')
  const nav = page.getByTestId('nav-import')
  await Promise.race([stored.waitFor({ state: 'visible' }), nav.waitFor({ state: 'visible' })])
  if (await stored.isVisible()) {
    await stored.click()
    await page.getByTestId('recovery-done').click()
  }
  await nav.waitFor({ state: 'visible' })
  mark('first-signin')
}

/** Opens the import wizard and picks the file (the dev bridge's "dialog"
 * answers the path given with --pick-file). */
export async function pickImportFile(page) {
  await page.getByTestId('nav-import').click()
  await page.getByTestId('import-view').waitFor()
  await page.getByTestId('import-pick').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="import-path"]')?.value.endsWith('.csv'))
}

/** Prints the page as Chromium's print path does (print media, A4) to
 * test-artifacts/ui/<name>.pdf and returns its text (pdftotext); page 1 is
 * also rendered to <name>.png, to look at. */
export async function printToText(ui, name) {
  const pdf = join(artifactsDir, `${name}.pdf`)
  await ui.page.emulateMedia({ media: 'print' })
  writeFileSync(pdf, await ui.page.pdf({ format: 'A4', printBackground: true }))
  await ui.page.emulateMedia({ media: 'screen' })
  execFileSync('pdftoppm', ['-png', '-r', '70', '-f', '1', '-l', '1', '-singlefile', pdf, join(artifactsDir, name)])
  return execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' })
}

/** After signing in with a password an administrator set: chooses the
 * staff member's own on the screen that insists on it, and waits for the app. */
export async function chooseOwnPassword(page, current, next) {
  await page.getByTestId('choose-password-form').waitFor()
  await page.getByTestId('choose-current').fill(current)
  await page.getByTestId('choose-new').fill(next)
  await page.getByTestId('choose-confirm').fill(next)
  await page.getByTestId('choose-password-submit').click()
  const err = page.getByTestId('choose-password-error')
  await Promise.race([page.getByTestId('choose-password-form').waitFor({ state: 'detached' }), err.waitFor()])
  if (await err.isVisible()) throw new Error(`choosing the own password failed: ${await err.innerText()}`)
}

// ---- shared steps --------------------------------------------------------
// One copy of what many tests do on the way to what they test.

/** Calls a bound method through the dev bridge as the signed-in staff member. */
export async function call(page, method, ...args) {
  return page.evaluate(
    async ([m, a]) => {
      const r = await fetch(`/api/call/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(a) })
      return { ok: r.ok, body: await r.json().catch(() => null) }
    },
    [method, args],
  )
}

/** call, failing the test unless the method succeeded; its answer. */
export async function mustCall(page, method, ...args) {
  const r = await call(page, method, ...args)
  assert.ok(r.ok, `${method} failed: ${JSON.stringify(r.body)}`)
  return r.body
}

/** Signs in on the sign-in form. */
export async function signIn(page, login, password) {
  await page.getByTestId('signin-form').waitFor()
  await page.getByTestId('signin-login').fill(login)
  await page.getByTestId('signin-password').fill(password)
  await page.getByTestId('signin-submit').click()
}

/** Picks an option of a Naive UI select, and waits for its menu to go (the
 *  next select's options must not be confused with a fading one). */
export async function choose(page, select, label) {
  await select.click()
  await page.locator('.n-base-select-option:visible').filter({ hasText: label }).first().click()
  await page.waitForFunction(() => ![...document.querySelectorAll('.n-base-select-menu')].some((e) => e.getClientRects().length > 0))
}

/** Imports the harness's pickFile CSV through the wizard with its defaults. */
export async function importCustomers(page) {
  await pickImportFile(page)
  await page.waitForFunction(() => !document.querySelector('[data-testid="import-next"]')?.disabled)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-step-mapping').waitFor()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-step-check').waitFor()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
}

/** Links simulated LINE friends to customers ([displayName, customerNo]
 *  pairs): the friend writes, staff link the conversation. Returns the
 *  simulated friends. */
export async function linkFriends(page, pairs) {
  const sims = await mustCall(page, 'SandboxCustomers')
  for (const [displayName, customerNo] of pairs) {
    const sim = sims.find((s) => s.displayName === displayName)
    assert.ok(sim, `simulated friend ${displayName}`)
    await mustCall(page, 'SandboxSend', sim.userId, 'お知らせを受け取りたいです')
    const conv = await conversationOf(page, sim.userId)
    const cust = (await mustCall(page, 'Customers', { query: customerNo, limit: 5, offset: 0 })).customers.find((c) => c.customerNo === customerNo)
    await mustCall(page, 'LinkConversation', conv.id, cust.id, 'none')
  }
  return sims
}

/** The conversation of a LINE user, once the inbox has it. */
export async function conversationOf(page, userId) {
  for (let i = 0; i < 50; i++) {
    const conv = (await mustCall(page, 'Conversations')).find((c) => c.lineUserId === userId)
    if (conv) return conv
    await page.waitForTimeout(200)
  }
  assert.fail(`no conversation of ${userId}`)
}

/** The official account's message to a simulated friend that contains
 *  text, once it was sent (a scheduler's pass, a reply's send). With
 *  wakeScheduler (the harness's ui), the automation scheduler is asked for
 *  a pass every few seconds instead of waiting for its 30-s tick (what it
 *  sends may not be due yet at the first ask: an event still on its way). */
export async function sentTo(page, userId, text, wakeScheduler) {
  const t = performance.now()
  try {
    for (let i = 0; i < 100; i++) {
      if (wakeScheduler && i % 10 === 0) await advanceClock(wakeScheduler, 1)
      const m = (await mustCall(page, 'SandboxChat', userId)).find((x) => x.from === 'official' && x.text.includes(text))
      if (m) return m
      await page.waitForTimeout(300)
    }
    assert.fail(`nothing containing ${text} was sent`)
  } finally {
    waited('sentTo', t)
  }
}

/** The sandbox's tracked link (a relay URL with a 32-character token) in a
 *  sent message's text, failing the test if there is none. */
export function trackedLink(text) {
  const url = /https:\/\/127\.0\.0\.1:\d+\/c\/sandbox\/[A-Za-z0-9_-]{32}/.exec(text)?.[0]
  assert.ok(url, text)
  return url
}

/** Before a screenshot: the pointer out of the way, no toast left. */
export async function settle(page) {
  const t = performance.now()
  await page.mouse.move(0, 0)
  await page.waitForFunction(() => document.querySelectorAll('.n-message').length === 0, null, { timeout: 8000 }).catch(() => {})
  await page.waitForTimeout(400)
  waited('settle', t)
}

/** GET without following redirects (a tracked link, a route's QR code);
 *  the sandbox's loopback link host has a self-signed certificate. */
export function openLink(url) {
  return new Promise((resolve, reject) => {
    https
      .get(url, { rejectUnauthorized: false }, (res) => {
        res.resume()
        resolve({ status: res.statusCode, location: res.headers.location })
      })
      .on('error', reject)
  })
}
