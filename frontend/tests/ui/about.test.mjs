// The About screen and the update check, end to end: the real dev bridge
// (Go facade, encrypted DB) reads an update policy pointing at a folder that
// holds an Ed25519-signed manifest and an installer; the screen shows the
// version and data folder, offers the verified update, and "installs" it
// only after the user confirms (the bridge prints the installer it would
// run instead of running it). A manifest signed by another key is refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign, createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const share = mkdtempSync(join(tmpdir(), 'tsunagu-ui-updates-'))
const { publicKey, privateKey } = generateKeyPairSync('ed25519')
const rawPub = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')
const installerName = 'Tsunagu-2.0.0-windows-amd64-installer.exe'
const installer = Buffer.from('MZ pretend installer 2.0.0')

/** Publishes a release into the share the way `tsunagu-cli update sign-manifest` does. */
function publish(bytes) {
  writeFileSync(join(share, installerName), bytes)
  const manifest = Buffer.from(
    JSON.stringify({
      product: 'Tsunagu',
      version: '2.0.0',
      released: '2026-11-25',
      notes: { ja: '受信箱の検索を改善しました。', en: 'Faster inbox search.' },
      os: process.platform === 'win32' ? 'windows' : process.platform,
      arch: process.arch === 'x64' ? 'amd64' : process.arch,
      installer: installerName,
      size: installer.length,
      sha256: createHash('sha256').update(installer).digest('hex'),
    }),
  )
  writeFileSync(join(share, 'manifest.json'), manifest)
  writeFileSync(join(share, 'manifest.json.sig'), sign(null, manifest, privateKey).toString('base64') + '\n')
}
publish(installer)
const policyFile = join(share, 'policy.json')
writeFileSync(policyFile, JSON.stringify({ location: share, publicKey: 'ed25519:' + rawPub.toString('base64') }))

const ui = useUiHarness({
  dataPrefix: 'tsunagu-ui-about-',
  devserverArgs: ['--update-policy', policyFile, '--app-version', 'v1.4.0-2-gabcdef0'],
})

test('About shows the build and offers a verified update only with consent', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await page.getByTestId('nav-about').click()
  await page.getByTestId('about-view').waitFor()
  assert.equal(await page.getByTestId('about-version').textContent(), 'v1.4.0-2-gabcdef0')
  assert.equal(await page.getByTestId('about-release').textContent(), '1.4.0.2')
  assert.ok((await page.getByTestId('about-data-dir').textContent()).startsWith(ui.dataDir))
  assert.equal(await page.getByTestId('nav-about').textContent().then((s) => s.trim()), 'アプリ情報')

  await page.getByTestId('update-check').click()
  const offer = page.getByTestId('update-offer')
  await offer.waitFor()
  const text = await offer.textContent()
  assert.match(text, /新しいバージョン 2\.0\.0 があります/)
  assert.match(text, /受信箱の検索を改善しました/)
  await ui.shot('about-update-offer-ja.png')
  assert.doesNotMatch(ui.serverOutput, /UPDATE-LAUNCH/, 'nothing runs before the user confirms')

  // Cancel first: still nothing runs.
  await page.getByTestId('update-install').click()
  await page.getByRole('button', { name: 'キャンセル' }).click()
  assert.doesNotMatch(ui.serverOutput, /UPDATE-LAUNCH/)

  await page.getByTestId('update-install').click()
  await page.getByRole('button', { name: 'インストールする' }).click()
  await page.waitForFunction(() => document.body.textContent.includes('インストーラーを起動しました'))
  assert.match(ui.serverOutput, new RegExp(`UPDATE-LAUNCH .*${installerName}`))
  assert.match(ui.serverOutput, /UPDATE-QUIT/)

  // A manifest signed by another key is refused, on screen, with no offer.
  const other = generateKeyPairSync('ed25519').privateKey
  const manifest = Buffer.from(JSON.stringify({ product: 'Tsunagu', version: '9.0.0' }))
  writeFileSync(join(share, 'manifest.json'), manifest)
  writeFileSync(join(share, 'manifest.json.sig'), sign(null, manifest, other).toString('base64') + '\n')
  await page.getByTestId('update-check').click()
  const error = page.getByTestId('update-error')
  await error.waitFor()
  assert.match(await error.textContent(), /検証に失敗/)
  assert.equal(await page.getByTestId('update-offer').count(), 0)
  await ui.shot('about-update-refused-ja.png')
  assert.deepEqual(ui.pageErrors, [])
})
