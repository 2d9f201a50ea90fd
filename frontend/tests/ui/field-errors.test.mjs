// End-to-end UI test of issue 19 item 6: a validation error names the field,
// marks it red and scrolls to it (campaign email subject, rich menu area 2's
// link), and a new form nobody has touched shows no error at all.
//   TSUNAGU_DEVSERVER=... node --test frontend/tests/ui/field-errors.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, choose } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-fielderrors-' })

/** The wrong fields the page shows: form items marked red, with their feedback. */
async function markedFields(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-field-error="true"]')].map((el) => ({
      field: el.getAttribute('data-field'),
      feedback: el.querySelector('.n-form-item-feedback-wrapper')?.textContent?.trim() ?? '',
      red: !!el.querySelector('.n-input--error-status, .n-base-selection--error-status'),
    })),
  )
}

/** Whether el is inside the viewport (scrolled to). */
async function inView(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect()
    return r.top >= 0 && r.bottom <= window.innerHeight
  })
}

async function openNewCampaign(page) {
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('campaigns-view').waitFor()
  await page.getByTestId('campaign-new').click()
  await page.getByTestId('campaign-editor').waitFor()
}

test('field errors: named, marked, scrolled to; nothing on an untouched form', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)
  // Email is set up (a loopback address nobody answers: nothing is sent
  // here), so a new campaign offers LINE and email; SMS is not.
  const saved0 = await page.evaluate(async () => {
    const body = [{ host: '127.0.0.1', port: 2525, tls: 'none', user: '', from: 'info@example.jp', fromName: 'つなぐ信用金庫' }, '']
    const r = await fetch('/api/call/SaveMailSettings', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    return { ok: r.ok, text: await r.text() }
  })
  assert.ok(saved0.ok, `SaveMailSettings: ${saved0.text}`)

  // 1. A new campaign nobody has touched: no red, no list, no channel error,
  // also after the live preview and plan have answered.
  const previewed = page.waitForResponse((r) => r.url().includes('/api/call/PreviewCampaignContent'), { timeout: 30_000 })
  const planned = page.waitForResponse((r) => r.url().includes('/api/call/CampaignPlanDraft'), { timeout: 30_000 })
  await openNewCampaign(page)
  const editor = page.getByTestId('campaign-editor')
  await previewed
  await planned
  await page.waitForTimeout(300) // let the answers render
  assert.deepEqual(await markedFields(page), [], 'an untouched form marks no field')
  assert.equal(await page.getByTestId('field-error-summary').count(), 0)
  assert.equal(await page.getByTestId('content-error').count(), 0, 'no channel error on an untouched form')
  assert.equal(await page.getByTestId('plan-error').count(), 0, 'no plan error on an untouched form')
  assert.equal(await editor.locator('.n-form-item-feedback-wrapper:visible').count(), 0)
  await ui.shot('field-errors-untouched-ja.png')

  // Saving it without a name: the form's own check, now, on the name.
  await editor.getByTestId('campaign-save').click()
  await page.locator('[data-field="name"][data-field-error="true"]').waitFor()
  assert.deepEqual(
    (await markedFields(page)).map((f) => f.field),
    ['name'],
  )
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'campaign-name')

  // 2. Email only, a text but no subject: the server's error names the subject.
  await page.getByTestId('campaign-name').fill('件名のないお知らせ')
  await editor.getByTestId('channel-line').click()
  await page.getByTestId('email-text').fill('いつもありがとうございます。')
  await page.evaluate(() => window.scrollTo(0, 0))
  await editor.evaluate((el) => el.closest('main, .content, [data-testid="campaigns-view"]')?.scrollTo?.(0, 0))
  const saved = page.waitForResponse((r) => r.url().includes('/api/call/CreateCampaign'))
  await editor.getByTestId('campaign-save').click()
  const answer = await saved
  assert.equal(answer.status(), 400)
  const body = await answer.json()
  assert.equal(body.error, 'errors.campaignInvalid')
  assert.deepEqual(body.fields, [{ field: 'content.email.subject', code: 'errors.fieldRequired' }])

  const subject = page.locator('[data-field="content.email.subject"]')
  await subject.and(page.locator('[data-field-error="true"]')).waitFor()
  const marked = await markedFields(page)
  assert.deepEqual(marked.map((f) => f.field), ['content.email.subject'])
  assert.equal(marked[0].feedback, '入力してください。')
  assert.ok(marked[0].red, 'the subject input is red')
  const summary = page.getByTestId('field-error-summary')
  assert.match(await summary.innerText(), /メールの件名：入力してください。/)
  assert.doesNotMatch(await summary.innerText(), /赤く表示/)
  // Scrolled to and focused, so the clerk can type at once.
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'email-subject')
  assert.ok(await inView(subject), 'the subject is scrolled into view')
  assert.equal(await page.getByTestId('toast-error').count(), 0, 'no vague toast beside the marked field')
  await ui.shot('field-errors-campaign-subject-ja.png')

  // Typing in the field clears its mark; saving then works.
  await page.getByTestId('email-subject').fill('年末年始のお知らせ')
  await page.waitForFunction(() => !document.querySelector('[data-field-error="true"]'))
  assert.equal(await summary.count(), 0)

  // The same error in English: every word from the catalog.
  await page.getByTestId('email-subject').fill('')
  await page.getByTestId('lang-en').click()
  await editor.getByTestId('campaign-save').click()
  await subject.and(page.locator('[data-field-error="true"]')).waitFor()
  assert.equal((await markedFields(page))[0].feedback, 'Enter a value.')
  assert.match(await summary.innerText(), /Please fix these fields \(1\)/)
  assert.match(await summary.innerText(), /Email subject: ?Enter a value\./)
  assert.doesNotMatch(await summary.innerText(), /[\u3040-\u30ff]/, 'no Japanese left in the English list')
  assert.equal(await page.getByTestId('plan-error').innerText(), 'Email subject: Enter a value.', 'the plan names the field too, reworded')
  await ui.shot('field-errors-campaign-subject-en.png')
  await page.getByTestId('lang-ja').click()
  await editor.getByRole('button', { name: 'キャンセル' }).click().catch(() => {})

  // 3. A rich menu whose area 2 links to http: the area is opened, its link
  // marked and named 「エリア 2 のリンク先」.
  await page.getByTestId('nav-richmenus').click()
  const view = page.getByTestId('richmenus-view')
  await view.waitFor()
  await choose(page, view.getByTestId('richmenu-template'), '大・6 分割')
  await view.getByTestId('richmenu-new').click()
  assert.deepEqual(await markedFields(page), [], 'a new menu marks nothing')
  const tabs = view.locator('.tabs [role="tab"]')
  await tabs.nth(1).click()
  await choose(page, view.getByTestId('richmenu-action-type'), 'リンクを開く')
  await view.getByTestId('richmenu-action-uri').fill('http://example-shinkin.jp/loan')
  await tabs.nth(0).click() // area 2's form is hidden now
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
  const menuSaved = page.waitForResponse((r) => r.url().includes('/api/call/SaveRichMenuDesign'))
  await view.getByTestId('richmenu-save').click()
  const menuBody = await (await menuSaved).json()
  assert.deepEqual(menuBody.fields, [{ field: 'areas.1.action.uri', code: 'errors.fieldLinkScheme' }])

  const uri = page.locator('[data-field="areas.1.action.uri"]')
  await uri.and(page.locator('[data-field-error="true"]')).waitFor()
  assert.equal(await tabs.nth(1).getAttribute('aria-selected'), 'true', 'area 2 is opened')
  assert.equal(await tabs.nth(1).getAttribute('data-area-error'), 'true', 'area 2 tab is marked')
  const rm = await markedFields(page)
  assert.deepEqual(rm.map((f) => f.field), ['areas.1.action.uri'])
  assert.equal(rm[0].feedback, 'https:・tel:・line: のいずれかで始まるリンクを入力してください。')
  assert.ok(rm[0].red)
  assert.match(await view.getByTestId('field-error-summary').innerText(), /エリア 2 のリンク先：https:・tel:・line: のいずれかで始まるリンクを入力してください。/)
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'richmenu-action-uri')
  assert.ok(await inView(uri), 'the link is scrolled into view')
  await ui.shot('field-errors-richmenu-area2-ja.png')

  // Fixed, it saves.
  await view.getByTestId('richmenu-action-uri').fill('https://example-shinkin.jp/loan')
  await view.getByTestId('richmenu-save').click()
  await page.getByText('メニューを保存しました').first().waitFor()
  assert.deepEqual(await markedFields(page), [])

  assert.deepEqual(pageErrors, [])
})
