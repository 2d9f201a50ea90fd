// Runs the UI test files as `node --test` does (each file its own process,
// TAP on stdout, exit status 1 when a test fails), but starts the longest
// files first: `node --test DIR` sorts the files by name, so the long ones
// late in the alphabet (search, seat-pairing, versions, wording...) started
// last and the run ended with one or two of them alone on the machine.
//   node frontend/tests/ui/run.mjs [--concurrency=N] [--own-browsers] [FILE...]
// (make test: UI_P files at once). One file on its own: node --test FILE.
// It also starts ONE Chromium for all files (chromium.launchServer, launched
// as harness.mjs launches its own) and hands its endpoint to them in
// TSUNAGU_CHROMIUM_WS: each file connects and works in browser contexts of
// its own instead of paying a Chromium launch (~1.7 CPU-s a file).
// --own-browsers: each file launches its own, as before (to compare).
import { run } from 'node:test'
import { tap, spec } from 'node:test/reporters'
import { readdirSync } from 'node:fs'
import { dirname, join, resolve, basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { chromiumLaunchOptions } from './harness.mjs'

const here = dirname(fileURLToPath(import.meta.url))

// Longest first, by the ui-time lines of a full run (seconds a file took
// with 3 at once on the 2-core machine, rounded). A file not listed (a new
// one) starts before all of these: its length is unknown, so it must not be
// the one that ends the run alone. Re-sort when a file grows or shrinks a lot.
const LONGEST_FIRST = [
  'campaigns', // 113 s
  'versions', // 128 s under load; 45 s of its own steps
  'search', // 111
  'seat-pairing', // 110
  'forms-b', // 110
  'forms-a', // 95
  'booking', // 85-94
  'staff-and-display', // 92
  'surveys', // 88
  'wording', // 85
  'recovery', // 84
  'drafts', // 83
  'inbox-extras', // 79
  'linking', // 78
  'seats', // 78
  'routes', // 75
  'forms-c2', // 74
  'webforms-sections', // 73
  'customer-card', // 68
  'campaigns-day', // 68
  'conversation-history', // 64
  'inbox', // 63
  'security', // 60
  'clicks-3', // 60
  'webforms', // 59
  'clicks', // 57
  'richmenus', // 56
  'field-errors', // 53
  'clicks-2', // 52
  'insight', // 51
  'seatlink', // 51
  'admin-screens', // 50
  'dashboard', // 50
  'relay', // 50
  'field-errors-2', // 49
  'forms-c1', // 48
  'pending-content', // 46
  'receive-reply', // 45
  'forms-c3', // 45
  'automations', // 43
  'customer-import', // 42
  'customer-erase', // 38
  'about', // 27
]

let concurrency = 3
let shared = true
const given = []
for (const a of process.argv.slice(2)) {
  const m = /^--concurrency=(\d+)$/.exec(a)
  if (m) concurrency = Number(m[1])
  else if (a === '--own-browsers') shared = false
  else given.push(resolve(a))
}
const all = given.length ? given : readdirSync(here).filter((f) => f.endsWith('.test.mjs')).map((f) => join(here, f))
const rank = (f) => {
  const i = LONGEST_FIRST.indexOf(basename(f, '.test.mjs'))
  return i < 0 ? -1 : i
}
const files = all.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))

const browser = shared ? await chromium.launchServer(chromiumLaunchOptions()) : undefined
let stopping = false
// A crash of the shared browser fails the files using it (their pages are
// closed under them, and harness.mjs's after hook names the cause); this line
// says what happened, and the run fails even if no file was using it.
browser?.process().on('exit', (code, signal) => {
  if (stopping) return
  console.error(`# shared Chromium exited during the run (code ${code}, signal ${signal}): the files using it fail`)
  process.exitCode = 1
})
if (browser) process.env.TSUNAGU_CHROMIUM_WS = browser.wsEndpoint()
else delete process.env.TSUNAGU_CHROMIUM_WS

const stream = run({ files, concurrency })
stream.on('test:fail', () => {
  process.exitCode = 1
})
stream.once('end', () => {
  stopping = true
  browser?.close().catch(() => {})
})
stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout)
