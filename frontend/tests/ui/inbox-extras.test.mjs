// End-to-end UI tests of what LINE Official Account Manager does in the
// inbox and Tsunagu did not (issue 19 item 15, the inbox part, and item 9's
// reply box): the reply box laid out for 1366×768, a photo viewer, sticker
// images, the sound and notification of new messages, moving between
// conversations from the keyboard, and a canned-reply picker with search.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/inbox-extras.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

// Where the dev bridge's save dialog puts files (the photo viewer's 保存).
const saveDir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-inboxx-save-'))
after(() => rmSync(saveDir, { recursive: true, force: true }))
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-inboxx-', devserverArgs: ['--save-dir', saveDir] })

// Records what the page asks of the browser's notification and audio APIs:
// a Notification stand-in that records instead of showing (headless Chromium
// has no notification centre), and a count of the chime's oscillators.
function spyOnAlerts() {
  window.__notes = []
  window.__chimes = 0
  window.Notification = class {
    static permission = 'granted'
    static requestPermission() {
      return Promise.resolve('granted')
    }
    constructor(title, o) {
      window.__notes.push({ title, body: o?.body ?? '' })
    }
  }
  const create = AudioContext.prototype.createOscillator
  AudioContext.prototype.createOscillator = function (...a) {
    window.__chimes++
    return create.apply(this, a)
  }
}

/** The simulated customer number i writes text; resolves with their name. */
async function customerWrites(page, i, text) {
  const phonePanel = page.getByTestId('phone-panel')
  const c = phonePanel.getByTestId('phone-customer').nth(i)
  await c.waitFor()
  const name = await c.getAttribute('data-name')
  await c.click()
  await phonePanel.getByTestId('phone-input').fill(text)
  await phonePanel.getByTestId('phone-send').click()
  await page.getByTestId('conversation-item').filter({ hasText: name }).filter({ hasText: text }).waitFor()
  return name
}

/** Bounding boxes of elements, by CSS selector, in one round trip. */
function boxes(page, selectors) {
  return page.evaluate((sels) => {
    const out = {}
    for (const [k, s] of Object.entries(sels)) {
      const el = document.querySelector(s)
      if (!el) {
        out[k] = null
        continue
      }
      const r = el.getBoundingClientRect()
      out[k] = { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, sw: el.scrollWidth, cw: el.clientWidth }
    }
    return out
  }, selectors)
}

test('item 9: the reply box fits its column at 1366×768 and 1920×1080, over-length message and hint readable', async () => {
  const { page } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await page.context().addInitScript(spyOnAlerts)
  await signInFirstAdmin(ui)
  await page.getByTestId('nav-inbox').click()
  const name = await customerWrites(page, 0, '口座の住所変更をしたいです')
  await page.getByTestId('conversation-item').filter({ hasText: name }).click()
  const pane = page.getByTestId('conversation-pane')
  // 5,001 characters: one over LINE's limit.
  await pane.getByTestId('composer-input').fill('あ'.repeat(5001))
  await pane.getByTestId('composer-counter').filter({ hasText: '5,001' }).waitFor()

  for (const [w, h] of [[1366, 768], [1920, 1080]]) {
    await page.setViewportSize({ width: w, height: h })
    await page.waitForTimeout(150)
    const b = await boxes(page, {
      thread: '.thread',
      side: '.side',
      composer: '.composer',
      send: '[data-testid="composer-send"]',
      hint: '#reply-hint',
      counter: '[data-testid="composer-counter"]',
      over: '[data-testid="composer-too-long"]',
    })
    const where = `${w}×${h}`
    assert.ok(b.send.right <= b.composer.right + 0.5, `${where}: the send button (right ${b.send.right}) stays inside the reply box (right ${b.composer.right})`)
    assert.ok(b.send.right <= b.side.left + 0.5, `${where}: the send button does not reach into the customer panel`)
    assert.ok(b.composer.right <= b.side.left + 0.5, `${where}: the reply box does not reach into the customer panel`)
    assert.ok(b.hint.width >= 80 && b.hint.sw <= b.hint.cw + 1, `${where}: the send hint is readable, not squeezed (width ${b.hint.width}, text ${b.hint.sw} in ${b.hint.cw})`)
    assert.ok(b.counter.sw <= b.counter.cw + 1 && b.counter.right <= b.composer.right + 0.5, `${where}: the counter is whole and inside the box`)
    assert.ok(b.over, `${where}: the over-length message is shown`)
    assert.ok(b.over.sw <= b.over.cw + 1 && b.over.right <= b.composer.right + 0.5, `${where}: the over-length message is not cut off`)
    assert.match(await pane.getByTestId('composer-too-long').innerText(), /5,000 文字を超えています.*1 文字/)
    await page.mouse.move(0, 0)
    await ui.shot(`inbox-extras-9-reply-box-${w}.png`)
  }
  await page.setViewportSize({ width: 1366, height: 768 })
  await pane.getByTestId('composer-input').fill('')
})

test('item 15d: Alt+↓/↑ moves between conversations, also while typing a reply; a hint says so', async () => {
  const { page } = ui
  await customerWrites(page, 1, '振込の限度額を上げたい')
  const items = page.getByTestId('conversation-item')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="conversation-item"]').length >= 2)
  const hint = page.getByTestId('inbox-move-hint')
  await hint.waitFor()
  assert.match(await hint.innerText(), /Alt \+ ↑ \/ ↓ で前後の会話へ/)

  await items.nth(0).click()
  const first = await items.nth(0).getAttribute('data-conversation-id')
  const second = await items.nth(1).getAttribute('data-conversation-id')
  const selected = () => page.locator('[data-testid="conversation-item"][aria-selected="true"]').getAttribute('data-conversation-id')
  assert.equal(await selected(), first)

  // While typing: plain ↓ stays in the text, Alt+↓ goes to the next conversation.
  const input = page.getByTestId('composer-input')
  await input.click()
  await input.type('下書き')
  await page.keyboard.press('ArrowDown')
  assert.equal(await selected(), first, 'a plain arrow does not leave the conversation while typing')
  await page.keyboard.press('Alt+ArrowDown')
  await page.waitForFunction((id) => document.querySelector('[data-testid="conversation-item"][aria-selected="true"]')?.getAttribute('data-conversation-id') === id, second)
  await page.keyboard.press('Alt+ArrowUp')
  await page.waitForFunction((id) => document.querySelector('[data-testid="conversation-item"][aria-selected="true"]')?.getAttribute('data-conversation-id') === id, first)
  assert.equal(await input.inputValue(), '下書き', 'what was typed is still there')
  await page.mouse.move(0, 0)
  await ui.shot('inbox-extras-15d-keyboard.png')
  await input.fill('')
})

test('item 15c: a new message chimes and shows a desktop notification with the count only; each clerk can turn both off', async () => {
  const { page } = ui
  // The window goes to the background (another application in front).
  await page.evaluate(() => {
    document.hasFocus = () => false
    window.__notes = []
    window.__chimes = 0
  })
  const text = '至急：カードを紛失しました'
  const name = await customerWrites(page, 2, text)
  await page.waitForFunction(() => window.__notes.length > 0)
  const notes = await page.evaluate(() => window.__notes)
  assert.equal(notes.length, 1)
  assert.equal(notes[0].title, 'つなぐ')
  assert.match(notes[0].body, /^新しいメッセージ（\d+ 件）$/)
  for (const secret of [name, text, '山田', 'カード']) assert.ok(!JSON.stringify(notes).includes(secret), `the notification holds no ${secret}`)
  assert.ok((await page.evaluate(() => window.__chimes)) > 0, 'a chime played')

  // In front, a new message still chimes but shows no notification.
  await page.evaluate(() => {
    document.hasFocus = () => true
    window.__notes = []
    window.__chimes = 0
  })
  await customerWrites(page, 2, '追加の質問です')
  await page.waitForFunction(() => window.__chimes > 0)
  assert.equal((await page.evaluate(() => window.__notes)).length, 0, 'no notification while the window is in front')

  // The clerk turns both off: nothing at all for the next message.
  await page.getByTestId('inbox-alerts').click()
  const panel = page.getByTestId('inbox-alerts-panel')
  await panel.waitFor()
  await panel.getByTestId('inbox-alerts-sound').click()
  await panel.getByTestId('inbox-alerts-desktop').click()
  await page.locator('[data-testid="inbox-alerts-sound"][aria-checked="false"]').waitFor()
  await page.locator('[data-testid="inbox-alerts-desktop"][aria-checked="false"]').waitFor()
  await ui.shot('inbox-extras-15c-alerts-off.png')
  await page.keyboard.press('Escape')
  await page.evaluate(() => {
    document.hasFocus = () => false
    window.__notes = []
    window.__chimes = 0
  })
  await customerWrites(page, 2, 'もう一件あります')
  await page.waitForTimeout(800)
  assert.deepEqual(await page.evaluate(() => [window.__notes.length, window.__chimes]), [0, 0], 'silent once turned off')
  // Kept for this staff member (on this PC), under their sign-in.
  const stored = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('tsunagu.newMessageAlerts.')))
  assert.equal(stored.length, 1)
  assert.deepEqual(JSON.parse(stored[0][1]), { sound: false, desktop: false })
  await page.evaluate(() => (document.hasFocus = () => true))
})

test('item 15a: a received photo opens in a viewer with zoom and 保存 (audited), from the keyboard too; Esc closes', async () => {
  const { page } = ui
  const phonePanel = page.getByTestId('phone-panel')
  const c = phonePanel.getByTestId('phone-customer').nth(3)
  const name = await c.getAttribute('data-name')
  await c.click()
  await phonePanel.getByTestId('phone-photo').click()
  const item = page.getByTestId('conversation-item').filter({ hasText: name })
  await item.waitFor()
  await item.click()
  const pane = page.getByTestId('conversation-pane')
  const open = pane.getByTestId('message-image-open')
  await open.waitFor().catch(async (e) => { await ui.shot('DEBUG.png'); throw e })

  // Keyboard: the photo is a button; Enter opens the viewer.
  await open.focus()
  await page.keyboard.press('Enter')
  const viewer = page.getByTestId('image-viewer')
  await viewer.waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid="viewer-image"]')?.style.width)
  const width = () => page.getByTestId('viewer-image').evaluate((el) => el.getBoundingClientRect().width)
  const zoomText = () => page.getByTestId('viewer-zoom').innerText()
  const w0 = await width()
  const z0 = await zoomText()
  await page.getByTestId('viewer-zoom-in').click()
  await page.waitForFunction((z) => document.querySelector('[data-testid="viewer-zoom"]')?.textContent?.trim() !== z, z0)
  assert.ok((await width()) > w0, 'zooming in enlarges the photo')
  await page.keyboard.press('-')
  await page.keyboard.press('-')
  assert.ok((await width()) < w0, 'the − key zooms out')
  await page.keyboard.press('0')
  assert.equal(await zoomText(), z0, '0 fits it again')
  await page.keyboard.press('Escape')
  await viewer.waitFor({ state: 'detached' })
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'message-image-open', 'the focus is back on the photo')

  // Mouse: open, zoom, save through the app's save dialog.
  await open.click()
  await viewer.waitFor()
  await page.getByTestId('viewer-zoom-in').click()
  await ui.shot('inbox-extras-15a-viewer.png')
  await page.getByTestId('viewer-save').click()
  await page.locator('.n-message').filter({ hasText: /写真を保存しました（image-\d{8}-\d{6}\.(jpg|png)）/ }).waitFor()
  const saved = readdirSync(saveDir).filter((f) => /^image-/.test(f))
  assert.equal(saved.length, 1, `one photo saved: ${saved}`)
  assert.ok(readFileSync(join(saveDir, saved[0])).length > 100, 'the saved file holds the photo')
  await page.keyboard.press('Escape')
  await viewer.waitFor({ state: 'detached' })

  // On the audit trail as a content export.
  await page.getByTestId('nav-audit').click()
  await page.getByTestId('audit-view').waitFor()
  const row = page.locator('[data-testid="audit-row"][data-action="conversation.content_export"]').first()
  await row.waitFor()
  assert.match(await row.innerText(), /お客さまの写真・ファイルを保存（持ち出し）/)
  assert.match(await row.innerText(), /［画像］/)
  await page.getByTestId('nav-inbox').click()
})

test('item 15e: the canned-reply picker leads to creating one when empty, searches like every search and previews on hover and keys', async () => {
  const { page } = ui
  await page.getByTestId('conversation-item').first().click()
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('composer-input').fill('')

  // None yet: it says so and leads to the settings where they are made.
  await pane.getByTestId('composer-canned').click()
  const empty = page.getByTestId('canned-empty')
  await empty.waitFor()
  assert.match(await empty.innerText(), /定型文はまだありません/)
  await ui.shot('inbox-extras-15e-canned-empty.png')
  await page.getByTestId('canned-create').click()
  const settings = page.getByTestId('inbox-settings-view')
  await settings.waitFor()
  for (const [title, body] of [
    ['住所変更の手続き', '{氏名}様\n住所変更は窓口またはＷＥＢで承ります。'],
    ['営業時間のご案内', '平日 9:00〜15:00 です。ATM は 21 時まで使えます。'],
    ['ｶｰﾄﾞ紛失', '至急、紛失の届出をお願いします。担当：{担当者}'],
  ]) {
    await settings.getByTestId('canned-new').click()
    await settings.getByTestId('canned-title').fill(title)
    await settings.getByTestId('canned-body').fill(body)
    await settings.getByTestId('canned-save').click()
    await settings.getByTestId('canned-item').filter({ hasText: title }).waitFor()
  }
  await page.getByTestId('nav-inbox').click()
  await page.getByTestId('conversation-item').first().click()

  await pane.getByTestId('composer-canned').click()
  const options = page.getByTestId('canned-option')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="canned-option"]').length === 3)
  const preview = page.getByTestId('canned-preview')
  // Hover previews the whole text.
  await options.filter({ hasText: '営業時間のご案内' }).hover()
  await preview.filter({ hasText: 'ATM は 21 時まで使えます' }).waitFor()
  // Search: lower-case ASCII finds full-width ＷＥＢ; full-width カタカナ finds half-width ｶｰﾄﾞ.
  const search = page.getByTestId('canned-search')
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'canned-search', 'the search has the focus')
  await search.fill('web')
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="canned-option"]')].map((e) => e.textContent).join('|').match(/^[^|]*住所変更の手続き[^|]*$/))
  await search.fill('カード')
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="canned-option"]')].map((e) => e.textContent).join('|').match(/^[^|]*ｶｰﾄﾞ紛失[^|]*$/))
  await preview.filter({ hasText: '紛失の届出をお願いします' }).waitFor()
  await search.fill('振込')
  await page.getByTestId('canned-no-match').filter({ hasText: '「振込」を含む定型文はありません' }).waitFor()
  // Keys: ↓ moves the preview, Enter inserts.
  await page.mouse.move(0, 0)
  await search.fill('')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="canned-option"]').length === 3)
  await preview.filter({ hasText: '住所変更は窓口' }).waitFor()
  await page.keyboard.press('ArrowDown')
  await preview.filter({ hasText: 'ATM は 21 時まで使えます' }).waitFor()
  await ui.shot('inbox-extras-15e-canned-picker.png')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.querySelector('[data-testid="composer-input"]')?.value.includes('ATM は 21 時まで使えます'))
  await page.getByTestId('canned-picker').waitFor({ state: 'hidden' })
  await pane.getByTestId('composer-input').fill('')
})

test('item 15b: a sticker shows as its image, served on loopback in the sandbox; its label when the image cannot load', async () => {
  const { page } = ui
  const hosts = new Set()
  const onRequest = (req) => hosts.add(new URL(req.url()).hostname)
  page.on('request', onRequest)
  const phonePanel = page.getByTestId('phone-panel')
  const c = phonePanel.getByTestId('phone-customer').nth(1)
  const name = await c.getAttribute('data-name')
  await c.click()
  await phonePanel.getByTestId('phone-sticker').click()
  const item = page.getByTestId('conversation-item').filter({ hasText: name })
  await item.click()
  const pane = page.getByTestId('conversation-pane')
  const sticker = pane.locator('[data-testid="message-bubble"][data-kind="sticker"] [data-testid="sticker-image"]').last()
  await sticker.waitFor()
  await page.waitForFunction(() => {
    const imgs = document.querySelectorAll('[data-testid="sticker-image"]')
    const img = imgs[imgs.length - 1]
    return img && img.complete && img.naturalWidth > 0
  })
  assert.match(await sticker.getAttribute('src'), /^http:\/\/127\.0\.0\.1:\d+\/stickershop\/v1\/sticker\/1988\/android\/sticker\.png$/)
  assert.equal(await sticker.getAttribute('alt'), '［スタンプ］')
  await page.mouse.move(0, 0)
  await ui.shot('inbox-extras-15b-sticker.png')
  page.off('request', onRequest)
  assert.deepEqual([...hosts].filter((h) => h !== '127.0.0.1'), [], 'nothing was fetched from outside this PC')

  // The image cannot be loaded (offline, gone from LINE): the label instead.
  await page.route('**/stickershop/v1/sticker/**', (route) => route.abort())
  await page.getByTestId('conversation-item').filter({ hasNotText: name }).first().click()
  await item.click()
  await pane.locator('[data-testid="message-bubble"][data-kind="sticker"] [data-testid="sticker-label"]').filter({ hasText: '［スタンプ］' }).last().waitFor()
  await page.unroute('**/stickershop/v1/sticker/**')
})

test('English: the new parts of the inbox have no untranslated Japanese', async () => {
  const { page, pageErrors } = ui
  const JA = /[\u3040-\u30ff\u4e00-\u9fff]/
  await page.getByTestId('lang-en').click()
  await page.getByTestId('inbox-move-hint').filter({ hasText: 'previous / next conversation' }).waitFor()
  const item = page.getByTestId('conversation-item').filter({ hasText: '[Image]' }).first()
  await page.getByTestId('conversation-item').first().click()
  const pane = page.getByTestId('conversation-pane')
  await pane.getByTestId('composer-input').fill('a'.repeat(5001))
  const texts = {}
  texts.hint = await page.getByTestId('inbox-move-hint').innerText()
  texts.tooLong = await pane.getByTestId('composer-too-long').innerText()
  texts.bar = await pane.locator('.bar').innerText()
  await page.getByTestId('inbox-alerts').click()
  texts.alerts = await page.getByTestId('inbox-alerts-panel').innerText()
  await page.keyboard.press('Escape')
  await page.getByTestId('inbox-move-hint').click() // away from the panel (not the rail: its items now reach the bottom)
  await pane.getByTestId('composer-input').fill('')
  await pane.getByTestId('composer-canned').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="canned-option"]').length === 3)
  await page.mouse.move(0, 0)
  // The templates themselves are the branch's own (Japanese) text: only the picker's own words are checked.
  texts.picker = [await page.getByTestId('canned-search').getAttribute('placeholder'), await page.locator('[data-testid="canned-picker"] .keys').innerText(), await page.locator('[data-testid="canned-preview"] small').innerText()].join(' ')
  await ui.shot('inbox-extras-en-canned.png')
  await page.keyboard.press('Escape')
  await item.click()
  await pane.getByTestId('message-image-open').click()
  await page.getByTestId('image-viewer').waitFor()
  texts.viewer = await page.locator('[data-testid="image-viewer"] .toolbar').innerText()
  await ui.shot('inbox-extras-en-viewer.png')
  await page.keyboard.press('Escape')
  for (const [k, v] of Object.entries(texts)) assert.ok(!JA.test(v), `${k} has Japanese in English: ${v}`)
  await page.getByTestId('lang-ja').click()
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
})
