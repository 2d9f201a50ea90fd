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
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const relayBin = process.env.TSUNAGU_RELAY_BIN || join(fileURLToPath(new URL('../../..', import.meta.url)), 'build', 'bin', 'tsunagu-relay')
const relayData = mkdtempSync(join(tmpdir(), 'tsunagu-ui-relay-'))
let relay

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

  // Empty form: validation, nothing sent.
  await section.getByTestId('relay-enroll').click()
  await section.getByText('https:// で始まる URL を入力してください。').waitFor()

  // A wrong code: the relay refuses, the message is translated.
  await section.getByTestId('relay-url').fill(base)
  await section.getByTestId('relay-code').fill(code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A'))
  await section.getByTestId('relay-enroll').click()
  const err = section.getByTestId('relay-error')
  await err.waitFor()
  assert.match(await err.textContent(), /登録コードが正しくないか/)
  await section.scrollIntoViewIfNeeded()
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
