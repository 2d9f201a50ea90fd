// The webhook relay settings, end to end: a real tsunagu-relay process on
// loopback (build/bin/tsunagu-relay, built by `make test`, or
// TSUNAGU_RELAY_BIN) issues an enrollment code with `tenant add`; the
// administrator enters a wrong code (refused, translated), then the right
// one; the drawer shows the relay and the webhook URL; disconnecting
// returns to the form.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const relayBin = process.env.TSUNAGU_RELAY_BIN || join(fileURLToPath(new URL('../../..', import.meta.url)), 'build', 'bin', 'tsunagu-relay')
const relayData = mkdtempSync(join(tmpdir(), 'tsunagu-ui-relay-'))
let relay

/** A loopback address nothing listens on (a port taken, then let go). */
async function closedAddress() {
  const srv = createServer()
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address()
  await new Promise((resolve) => srv.close(resolve))
  return `http://127.0.0.1:${port}`
}

async function startRelay() {
  assert.ok(existsSync(relayBin), `${relayBin} is missing: run "make relay" (or set TSUNAGU_RELAY_BIN). Refusing to skip.`)
  relay = spawn(relayBin, ['serve', '--behind-proxy', '--listen', '127.0.0.1:0', '--metrics-listen', '', '--data-dir', relayData], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  return await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), 20_000)
    relay.stderr.on('data', (b) => {
      out += b
      const m = /listening on (\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(`http://${m[1]}`)
      }
    })
  })
}

after(() => {
  relay?.kill('SIGTERM')
  rmSync(relayData, { recursive: true, force: true })
})

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-relay-' })

test('an administrator enrolls with a relay and disconnects', async () => {
  const base = await startRelay()
  const added = execFileSync(relayBin, ['tenant', 'add', '本店', '--data-dir', relayData], { encoding: 'utf8' })
  const code = /code[^:]*: (\S+)/.exec(added)?.[1]
  assert.ok(code, `no code in ${added}`)

  const { page } = ui
  await signInFirstAdmin(ui)
  await page.getByTestId('open-settings').click()
  const section = page.getByTestId('relay-settings')
  await section.waitFor()

  // The wrong fields the form marks: [field, the reason under it].
  const form = section.getByTestId('relay-enroll-form')
  const marked = () =>
    form.evaluate((el) =>
      [...el.querySelectorAll('[data-field-error="true"]')].map((f) => [
        f.getAttribute('data-field'),
        f.querySelector('.n-form-item-feedback-wrapper')?.textContent?.trim() ?? '',
      ]),
    )
  let sent = 0
  page.on('request', (r) => {
    if (r.url().includes('/api/call/RelayEnroll')) sent++
  })

  // Empty form: both fields named and marked, nothing sent.
  await section.getByTestId('relay-enroll').click()
  await form.locator('[data-field="code"][data-field-error="true"]').filter({ hasText: '入力してください。' }).waitFor()
  assert.deepEqual(await marked(), [
    ['relayUrl', '入力してください。'],
    ['code', '入力してください。'],
  ])
  assert.match(await form.getByTestId('field-error-summary').innerText(), /中継サーバーの URL：入力してください。/)
  // Not a URL: the address is marked, still nothing sent.
  await section.getByTestId('relay-url').fill('relay.example.jp')
  await section.getByTestId('relay-enroll').click()
  await form.locator('[data-field="relayUrl"][data-field-error="true"]').filter({ hasText: 'https: で始まる' }).waitFor()
  assert.equal(sent, 0)

  // No relay at the address: the address is marked, not the code.
  await section.getByTestId('relay-url').fill(await closedAddress())
  await section.getByTestId('relay-code').fill(code)
  await section.getByTestId('relay-enroll').click()
  await form.locator('[data-field="relayUrl"][data-field-error="true"]').filter({ hasText: '接続できませんでした' }).waitFor()
  assert.deepEqual((await marked()).map(([f]) => f), ['relayUrl'])
  assert.equal(sent, 1)

  // A wrong code: the relay refuses it, and the code field (not the
  // address, not a box for the whole form) says so; what was typed stays.
  const wrongCode = code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A')
  await section.getByTestId('relay-url').fill(base)
  await section.getByTestId('relay-code').fill(wrongCode)
  await section.getByTestId('relay-enroll').click()
  await form.locator('[data-field="code"][data-field-error="true"]').filter({ hasText: '使用済み' }).waitFor()
  assert.deepEqual(await marked(), [['code', '受け付けられませんでした。間違い・使用済み・期限切れのどれかです。発行した人に新しいコードをもらってください。']])
  assert.equal(await section.getByTestId('relay-error').count(), 0)
  assert.equal(await section.getByTestId('relay-code').inputValue(), wrongCode)
  assert.equal(sent, 2)
  await section.scrollIntoViewIfNeeded()
  await page.mouse.move(0, 0)
  await ui.shot('relay-settings-error-ja.png')

  // The right code.
  await section.getByTestId('relay-code').fill(code)
  await section.getByTestId('relay-enroll').click()
  const url = section.getByTestId('relay-webhook-url')
  await url.waitFor()
  assert.match(await url.textContent(), new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/hook/t[0-9a-f]{12}/[A-Za-z0-9_-]{43}$`))
  // Sandbox mode: enrolled, but nothing is pulled until a channel is saved.
  assert.match(await section.getByTestId('relay-state').textContent(), /サンドボックス/)
  await section.scrollIntoViewIfNeeded()
  await page.mouse.move(0, 0)
  await ui.shot('relay-settings-ja.png')

  const listed = JSON.parse(execFileSync(relayBin, ['tenant', 'list', '--json', '--data-dir', relayData], { encoding: 'utf8' }))
  assert.equal(listed.length, 1)
  assert.equal(listed[0].enrolled, true)

  // Disconnect (confirmed) returns to the form.
  await section.getByTestId('relay-disconnect').click()
  await page.getByTestId('relay-disconnect-confirm').click()
  await section.getByTestId('relay-enroll').waitFor()
  assert.deepEqual(ui.pageErrors, [])
  assert.ok(!ui.serverOutput.includes(code), 'the enrollment code reached the devserver log')
})
