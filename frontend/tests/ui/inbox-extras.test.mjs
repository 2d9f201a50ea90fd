// End-to-end UI tests of what LINE Official Account Manager does in the
// inbox and Tsunagu did not (issue 19 item 15, the inbox part, and item 9's
// reply box): the reply box laid out for 1366×768, a photo viewer, sticker
// images, the sound and notification of new messages, moving between
// conversations from the keyboard, and a canned-reply picker with search.
//   TSUNAGU_DEVSERVER=/abs/path/to/tsunagu-devserver node --test frontend/tests/ui/inbox-extras.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-inboxx-' })

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
