// End-to-end UI test of per-segment rich menus: an administrator designs two
// menus from templates (placeholder images), assigns one to friends who are
// not linked and the other as the default, publishes and syncs in sandbox
// mode; the simulated customer's phone shows the menu and a tap sends its
// postback through the simulator into the inbox.
//   TSUNAGU_DIST=... TSUNAGU_DEVSERVER=... node --test frontend/tests/ui/richmenus.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, choose } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-richmenus-' })

async function newDesign(page, template, name) {
  const view = page.getByTestId('richmenus-view')
  await choose(page, view.getByTestId('richmenu-template'), template)
  await view.getByTestId('richmenu-new').click()
  await view.getByTestId('richmenu-name').fill(name)
  // The placeholder saves the design first, then draws its image.
  await view.getByTestId('richmenu-placeholder').click()
  await view.getByTestId('richmenu-design').filter({ hasText: name }).waitFor()
  await page.waitForFunction(() => !!document.querySelector('[data-testid="richmenu-canvas"] img'))
}

test('design, assign, publish and see the rich menu on the simulated phone', async () => {
  const { page, pageErrors } = ui
  await signInFirstAdmin(ui)

  // The first simulated customer becomes a friend the inbox knows.
  const phone = page.getByTestId('phone-panel')
  const who = phone.getByTestId('phone-customer').first()
  await who.waitFor()
  await who.click()
  await phone.getByTestId('phone-input').fill('こんにちは')
  await phone.getByTestId('phone-send').click()
  await phone.locator('[data-testid="phone-message"][data-from="customer"]').first().waitFor()
  assert.equal(await phone.getByTestId('phone-richmenu').count(), 0, 'no menu before publishing')

  await page.getByTestId('nav-richmenus').click()
  const view = page.getByTestId('richmenus-view')
  await view.waitFor()
  await newDesign(page, '大・6 分割', 'はじめての方')
  // A tap area's action: a message the customer sends.
  await view.getByTestId('richmenu-area').nth(1).click()
  await choose(page, view.getByTestId('richmenu-action-type'), 'メッセージを送る')
  await view.getByTestId('richmenu-action-text').fill('口座開設について')
  await view.getByTestId('richmenu-save').click()
  await view.evaluate((el) => (el.scrollTop = 0))
  await ui.shot('richmenus-editor-ja.png')
  await newDesign(page, '小・3 分割', '会員メニュー')

  // Friends not linked get the first menu; everyone else the member menu.
  const assign = page.getByTestId('richmenu-assignments')
  await assign.getByTestId('richmenu-add-rule').click()
  const rule = assign.getByTestId('richmenu-rule').first()
  await choose(page, rule.getByTestId('richmenu-rule-match'), '未連携の友だち')
  await choose(page, rule.getByTestId('richmenu-rule-design'), 'はじめての方')
  await choose(page, assign.getByTestId('richmenu-default'), '会員メニュー')
  await assign.getByTestId('richmenu-save-assignments').click()
  await page.getByText('出し分けを保存しました。').waitFor()

  await page.getByTestId('richmenu-publish-button').click()
  const result = page.getByTestId('richmenu-result')
  await result.waitFor()
  assert.match(await result.innerText(), /2 件のメニューを登録/)
  assert.match(await result.innerText(), /1 人のメニューを切り替えました/)
  await page.getByTestId('richmenu-status').filter({ hasText: '完了' }).waitFor()
  assert.equal(await view.getByTestId('richmenu-design').filter({ hasText: '公開中' }).count(), 2)
  await ui.shot('richmenus-published-ja.png')

  // The phone (beside the inbox) shows the "はじめての方" menu (6 areas), open by default.
  await page.getByTestId('nav-inbox').click()
  const menu = phone.getByTestId('phone-richmenu')
  await menu.waitFor()
  assert.equal(await menu.getByTestId('phone-richmenu-area').count(), 6)
  await ui.shot('richmenus-phone-ja.png')
  // Tapping area 1 sends its postback; area 2 sends the message.
  await menu.getByTestId('phone-richmenu-area').first().click()
  await phone.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: '1' }).last().waitFor()
  await menu.getByTestId('phone-richmenu-area').nth(1).click()
  await phone.locator('[data-testid="phone-message"][data-from="customer"]').filter({ hasText: '口座開設について' }).waitFor()

  // Another simulated customer, not a friend the inbox knows yet, sees the default menu.
  await phone.getByTestId('phone-customer').nth(1).click()
  // Switching customers replaces the menu; the first customer's is never left showing.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="phone-richmenu-area"]').length === 3)
  await ui.shot('richmenus-phone-default-ja.png')

  // Sync now: nothing left to change, recorded anyway.
  await page.getByTestId('nav-richmenus').click()
  await page.getByTestId('richmenu-sync-button').click()
  await result.filter({ hasText: '0 人のうち 0 人' }).waitFor()
  assert.deepEqual(pageErrors, [])
})
