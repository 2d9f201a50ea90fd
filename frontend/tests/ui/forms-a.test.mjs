// End-to-end UI test of issue 19 items 6 and 3 on the segment editor and
// the canned-reply editor (定型文), at 1366x768 in Japanese with an English
// pass over the summary.
//
// Item 6: an untouched new form shows nothing; a save names every wrong
// field by its visible label in the summary, marks it red with the reason,
// and focuses it: the form's own checks (a name, a condition not filled in)
// and the Go side's (a name in use, a value over 200 characters, a text over
// 5,000), carried as fielderr paths (`rules.children.0.cond.value`).
// Item 3: a new and an edited segment and canned reply survive a manual
// lock and a restart; an edit is restored only onto the version it started
// from; another staff member never sees them.
//
// On main before this change: the segment save button stayed disabled
// while a name or a condition was missing (the click below never lands), a
// refused save only showed a general message with nothing marked, and both
// editors lost their unsaved work on a lock.
//   TSUNAGU_DEVSERVER=... node --test frontend/tests/ui/forms-a.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, restartDevserver, chooseOwnPassword, call, signIn, choose } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-forms-a-' })
const PASSWORD = 'correct horse battery 1'

/** The marked fields: their path, reason and whether the input is red. */
async function marked(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-field-error="true"]')].map((el) => ({
      field: el.getAttribute('data-field'),
      feedback: el.querySelector('.n-form-item-feedback-wrapper')?.textContent?.trim() ?? '',
      red: ['.n-input--error-status', '.n-base-selection--error-status', '.wrong'].some((c) => el.matches(c) || !!el.querySelector(c)),
    })),
  )
}

/** The data-field nearest the focused element. */
async function focused(page) {
  return page.evaluate(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') ?? null)
}

async function lockAndUnlock(page) {
  await page.getByTestId('lock-now').click()
  await page.getByTestId('lock-screen').waitFor()
  assert.equal(await page.getByTestId('segments-view').count() + (await page.getByTestId('inbox-settings-view').count()), 0, 'nothing behind the lock screen')
  await page.getByTestId('unlock-password').fill(PASSWORD)
  await page.getByTestId('unlock-submit').click()
  await page.getByTestId('lock-screen').waitFor({ state: 'detached' })
}

/** Waits until the signed-in person's draft satisfies ok(body). */
async function draftInDb(page, kind, key, ok) {
  for (let i = 0; i < 50; i++) {
    const r = await call(page, 'GetDraft', kind, key)
    if (r.ok && ok(r.body.body)) return r.body.body
    await page.waitForTimeout(200)
  }
  assert.fail(`the ${kind} draft ${key} never reached the DB in the expected state`)
}

const valueOf = (page, testid) => page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.value ?? null, testid)

test('segment editor: wrong fields named, marked and focused; drafts survive a lock and a restart', { timeout: 240_000 }, async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui)
  const existing = await call(page, 'SaveSegment', { id: 0, name: '年金受給者', rules: { op: 'and', children: [{ cond: { kind: 'field', field: 'age', minAge: 65 } }] }, createdBy: '', updatedBy: '', updatedAt: 0 })
  assert.ok(existing.ok, JSON.stringify(existing.body))

  await page.getByTestId('nav-segments').click()
  const editor = page.getByTestId('segment-editor')
  await editor.waitFor()
  await page.waitForTimeout(400)
  assert.deepEqual(await marked(page), [], 'an untouched new segment marks nothing')
  assert.equal(await page.getByTestId('field-error-summary').count(), 0)

  // --- Item 6: the form's own checks. A name is missing and the added
  // condition (店番・支店) has no value: both named, the first focused.
  await editor.getByTestId('add-condition').click()
  let calls = 0
  page.on('request', (r) => r.url().includes('/api/call/SaveSegment') && calls++)
  await editor.getByTestId('segment-save').click()
  const summary = editor.getByTestId('field-error-summary')
  await summary.waitFor()
  assert.match(await summary.innerText(), /セグメント名：入力してください。/)
  assert.match(await summary.innerText(), /条件 1（店番・支店）：入力してください。/)
  assert.deepEqual(
    (await marked(page)).map((f) => f.field),
    ['name', 'rules.children.0.cond', 'rules.children.0.cond.value'],
  )
  assert.equal((await marked(page)).find((f) => f.field === 'name').feedback, '入力してください。')
  assert.ok((await marked(page)).find((f) => f.field === 'rules.children.0.cond').red, 'the condition is marked red')
  await editor.getByTestId('cond-field-error').filter({ hasText: '条件 1（店番・支店）：入力してください。' }).waitFor()
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'name')
  assert.equal(calls, 0, 'nothing is sent while the form itself knows what is missing')
  await page.mouse.move(0, 0)
  await ui.shot('forms-a-segment-required-ja.png')

  // A click in the summary goes to the condition's input.
  await summary.getByText('条件 1（店番・支店）').click()
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'rules.children.0.cond.value')
  await page.keyboard.press('Escape')

  // An age band whose end is before its start: named by its reason.
  await page.getByTestId('segment-name').fill('年金受給者')
  const row = editor.getByTestId('segment-cond-row').first()
  await choose(page, row.getByTestId('cond-field'), '年齢')
  await row.getByTestId('cond-max-age').locator('input').fill('10')
  await row.getByTestId('cond-max-age').locator('input').blur()
  await editor.getByTestId('segment-save').click()
  await editor.getByTestId('cond-field-error').filter({ hasText: '条件 1（年齢）：終わりが始まりより前になっています。' }).waitFor()
  assert.ok(
    (await marked(page)).some((f) => f.field === 'rules.children.0.cond.maxAge' && f.red),
    `the upper age is red: ${JSON.stringify(await marked(page))}`,
  )
  assert.equal(await focused(page), 'rules.children.0.cond.maxAge')
  assert.equal(calls, 0)

  // --- Item 6: the Go side's checks, carried by their paths. The name is
  // in use, and a custom attribute's value is over 200 characters (the form
  // does not count characters): both marked from the server's answer.
  await row.getByTestId('cond-max-age').locator('input').fill('')
  await row.getByTestId('cond-max-age').locator('input').blur()
  await editor.getByTestId('add-condition').click()
  const second = editor.getByTestId('segment-cond-row').nth(1)
  await choose(page, second.getByTestId('cond-kind'), '独自の属性')
  await second.getByTestId('cond-key').locator('input').fill('rank')
  await second.getByTestId('cond-value').locator('input').fill('あ'.repeat(201))
  const answer = page.waitForResponse((r) => r.url().includes('/api/call/SaveSegment'))
  await editor.getByTestId('segment-save').click()
  const body = await (await answer).json()
  assert.deepEqual(body.fields, [
    { field: 'name', code: 'errors.fieldTaken' },
    { field: 'rules.children.1.cond.value', code: 'errors.fieldTooLong', max: 200 },
  ])
  await editor.getByTestId('cond-field-error').filter({ hasText: '条件 2（独自の属性）：200 文字以内にしてください。' }).waitFor()
  const text = await summary.innerText()
  assert.match(text, /セグメント名：同じ名前がすでにあります。/)
  assert.match(text, /条件 2（独自の属性）：200 文字以内にしてください。/)
  assert.doesNotMatch(text, /rules\.|children|cond/, 'no paths shown to the clerk')
  assert.equal((await marked(page)).find((f) => f.field === 'name').feedback, '同じ名前がすでにあります。別の名前にしてください。')
  assert.equal(await focused(page), 'name')
  await page.mouse.move(0, 0)
  await ui.shot('forms-a-segment-server-ja.png')

  // English: the same summary, in English.
  await page.getByTestId('lang-en').click()
  await summary.filter({ hasText: 'Segment name: This name is already in use.' }).waitFor()
  assert.match(await summary.innerText(), /Condition 2 \(Custom attribute\): Use at most 200 characters\./)
  assert.doesNotMatch(await summary.innerText(), /[ぁ-んァ-ン]/, 'no Japanese left in the English summary')
  await ui.shot('forms-a-segment-server-en.png')
  await page.getByTestId('lang-ja').click()

  // Fixing a field takes its mark away.
  await second.getByTestId('cond-value').locator('input').fill('A')
  await page.getByTestId('segment-name').fill('年金受給者（ランクA）')
  await page.waitForFunction(() => document.querySelectorAll('[data-field-error="true"]').length === 0)
  assert.equal(await summary.count(), 0)

  // --- Item 3: the new segment's unsaved work survives a manual lock.
  await draftInDb(page, 'segment', 'new', (b) => b.includes('年金受給者（ランクA）'))
  await lockAndUnlock(page)
  await editor.waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid="segment-name"]')?.value === '年金受給者（ランクA）')
  assert.equal(await editor.getByTestId('segment-cond-row').count(), 2)
  assert.equal(await editor.getByTestId('cond-key').locator('input').inputValue(), 'rank')

  // An edit of the saved segment, left unsaved, survives the lock in place.
  await page.locator('[data-testid="saved-segment"][data-name="年金受給者"]').click()
  await page.locator(`[data-testid="segment-editor"][data-segment-id="${existing.body.id}"]`).waitFor()
  await page.getByTestId('segment-name').fill('年金受給者（65歳以上）')
  await draftInDb(page, 'segment', String(existing.body.id), (b) => b.includes('65歳以上'))
  await lockAndUnlock(page)
  await page.locator(`[data-testid="segment-editor"][data-segment-id="${existing.body.id}"]`).waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid="segment-name"]')?.value === '年金受給者（65歳以上）')
  await page.locator('[data-testid="saved-segment"].sel[data-name="年金受給者"]').waitFor()

  // --- A restart: the new one is offered, the edited one marked.
  await restartDevserver(ui)
  await page.goto(`${ui.baseUrl}/`)
  await signIn(page, 'tanaka', PASSWORD)
  await page.getByTestId('nav-segments').click()
  await editor.waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid="segment-name"]')?.value === '年金受給者（ランクA）')
  await page.getByText('保存していない下書きを復元しました。').first().waitFor()
  await page.locator('[data-testid="saved-segment"][data-name="年金受給者"]').getByTestId('draft-tag').filter({ hasText: '下書きあり' }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('forms-a-segment-restored-ja.png')
  await page.locator('[data-testid="saved-segment"][data-name="年金受給者"]').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="segment-name"]')?.value === '年金受給者（65歳以上）')
  await page.getByTestId('segment-draft-waiting').filter({ hasText: '作成途中の新しいセグメントがあります' }).waitFor()
  await ui.shot('forms-a-segment-edit-restored-ja.png')

  // Someone saves the segment meanwhile: the draft of the older version is
  // not laid over the newer one.
  await page.getByTestId('segment-new').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="segment-name"]')?.value === '年金受給者（ランクA）')
  const newer = await call(page, 'SaveSegment', { ...existing.body, name: '年金受給者（全店）' })
  assert.ok(newer.ok, JSON.stringify(newer.body))
  await page.getByTestId('nav-campaigns').click()
  await page.getByTestId('nav-segments').click()
  await page.locator('[data-testid="saved-segment"][data-name="年金受給者（全店）"]').click()
  await page.locator(`[data-testid="segment-editor"][data-segment-id="${existing.body.id}"]`).waitFor()
  await page.waitForTimeout(600) // the draft load has answered
  assert.equal(await valueOf(page, 'segment-name'), '年金受給者（全店）', 'the newer version is shown, not the old draft')

  // Saving ends the new segment's draft.
  await page.getByTestId('segment-draft-waiting').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="segment-name"]')?.value === '年金受給者（ランクA）')
  await editor.getByTestId('segment-save').click()
  await page.locator('[data-testid="saved-segment"][data-name="年金受給者（ランクA）"]').waitFor()
  await draftInDb(page, 'segment', 'new', (b) => b === '')

  // Another staff member sees none of it.
  const sato = await call(page, 'CreateStaff', { login: 'sato', displayName: '佐藤 次郎', role: 'operator', password: 'initial pass for sato 1' })
  assert.ok(sato.ok, JSON.stringify(sato.body))
  await page.getByTestId('segment-new').click()
  await page.getByTestId('segment-name').fill('田中の作業中')
  await draftInDb(page, 'segment', 'new', (b) => b.includes('田中の作業中'))
  await page.getByTestId('sign-out').click()
  await signIn(page, 'sato', 'initial pass for sato 1')
  await chooseOwnPassword(page, 'initial pass for sato 1', 'sato chose this pass 2')
  await page.getByTestId('nav-segments').click()
  await editor.waitFor()
  await page.waitForTimeout(600)
  assert.equal(await valueOf(page, 'segment-name'), '', "sato's new segment is empty")
  assert.equal(await page.getByTestId('draft-tag').count(), 0, 'sato sees no draft mark')
  assert.equal(await page.getByTestId('segment-draft-waiting').count(), 0)
  await page.getByTestId('sign-out').click()
  await signIn(page, 'tanaka', PASSWORD)
  await page.getByTestId('nav-segments').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="segment-name"]')?.value === '田中の作業中')

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})

test('canned-reply editor: wrong fields named, marked and focused; drafts survive a lock and a restart', { timeout: 180_000 }, async () => {
  const { page, pageErrors } = ui
  await page.getByTestId('nav-inbox-settings').click()
  const settings = page.getByTestId('inbox-settings-view')
  await settings.waitFor()
  await settings.getByTestId('canned-new').click()
  const editor = settings.getByTestId('canned-editor')
  await editor.waitFor()
  await page.waitForTimeout(300)
  assert.deepEqual(await marked(page), [], 'an untouched new canned reply marks nothing')

  // --- Item 6: both fields empty, named by their labels; the first focused.
  await editor.getByTestId('canned-save').click()
  const summary = editor.getByTestId('field-error-summary')
  await summary.waitFor()
  assert.match(await summary.innerText(), /名前：入力してください。/)
  assert.match(await summary.innerText(), /本文：入力してください。/)
  assert.deepEqual(await marked(page), [
    { field: 'title', feedback: '入力してください。', red: true },
    { field: 'body', feedback: '入力してください。', red: true },
  ])
  await page.waitForFunction(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field') === 'title')
  await page.mouse.move(0, 0)
  await ui.shot('forms-a-canned-required-ja.png')

  // The Go side's limit: a text over 5,000 characters, marked from its answer.
  await settings.getByTestId('canned-title').fill('口座振替のご案内')
  await settings.getByTestId('canned-body').fill('あ'.repeat(5001))
  const answer = page.waitForResponse((r) => r.url().includes('/api/call/SaveCannedReply'))
  await editor.getByTestId('canned-save').click()
  assert.deepEqual((await (await answer).json()).fields, [{ field: 'body', code: 'errors.fieldTooLong', max: 5000 }])
  await page.locator('[data-field="body"][data-field-error="true"]').waitFor()
  assert.deepEqual(await marked(page), [{ field: 'body', feedback: '5000 文字以内にしてください。', red: true }])
  assert.match(await summary.innerText(), /本文：5000 文字以内にしてください。/)
  assert.equal(await focused(page), 'body')
  await page.mouse.move(0, 0)
  await ui.shot('forms-a-canned-server-ja.png')
  await page.getByTestId('lang-en').click()
  await summary.filter({ hasText: 'Text: Use at most 5000 characters.' }).waitFor()
  await ui.shot('forms-a-canned-server-en.png')
  await page.getByTestId('lang-ja').click()

  // --- Item 3: the fixed text, unsaved, survives a lock and a restart.
  const BODY = '{氏名}様\n口座振替のお手続きは窓口で承ります。'
  await settings.getByTestId('canned-body').fill(BODY)
  await draftInDb(page, 'canned', 'new', (b) => b.includes('口座振替のお手続き'))
  await lockAndUnlock(page)
  await settings.getByTestId('canned-editor').waitFor()
  await page.waitForFunction((b) => document.querySelector('[data-testid="canned-body"]')?.value === b, BODY)
  assert.equal(await valueOf(page, 'canned-title'), '口座振替のご案内')
  await restartDevserver(ui)
  await page.goto(`${ui.baseUrl}/`)
  await signIn(page, 'tanaka', PASSWORD)
  await page.getByTestId('nav-inbox-settings').click()
  const waiting = settings.getByTestId('canned-draft-waiting')
  await waiting.filter({ hasText: '作成途中の新しい定型文があります' }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('forms-a-canned-waiting-ja.png')
  await waiting.click()
  await page.waitForFunction((b) => document.querySelector('[data-testid="canned-body"]')?.value === b, BODY)
  await page.getByText('保存していない下書きを復元しました。').first().waitFor()
  await settings.getByTestId('canned-save').click()
  const item = settings.locator('[data-testid="canned-item"][data-title="口座振替のご案内"]')
  await item.waitFor()
  await draftInDb(page, 'canned', 'new', (b) => b === '')
  assert.equal(await waiting.count(), 0)

  // An edit of a saved reply: kept over a lock, marked in the list when
  // closed, restored when opened again.
  await item.getByTestId('canned-edit').click()
  await settings.getByTestId('canned-body').fill(BODY + '\nご不明な点は担当の{担当者}まで。')
  const id = await settings.getByTestId('canned-editor').getAttribute('data-canned-id')
  await draftInDb(page, 'canned', id, (b) => b.includes('ご不明な点'))
  await lockAndUnlock(page)
  await page.waitForFunction(() => document.querySelector('[data-testid="canned-body"]')?.value.includes('ご不明な点'))
  await settings.getByTestId('canned-cancel').click()
  await item.getByTestId('draft-tag').filter({ hasText: '下書きあり' }).waitFor()
  await page.mouse.move(0, 0)
  await ui.shot('forms-a-canned-edit-drafted-ja.png')
  await item.getByTestId('canned-edit').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="canned-body"]')?.value.includes('ご不明な点'))
  await settings.getByTestId('canned-save').click()
  await item.filter({ hasText: 'ご不明な点' }).waitFor()
  await draftInDb(page, 'canned', id, (b) => b === '')
  assert.equal(await item.getByTestId('draft-tag').count(), 0)

  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
