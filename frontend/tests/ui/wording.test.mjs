// End-to-end UI test of issue 19 items 13 and 9, at 1366×768 in Japanese:
// no internal IDs or jargon on any screen (staff by display name, customers
// by number, audit details labelled, no hashes, q1, postback or 一括呼び出し;
// the header says ログイン中, not the role name 担当者), and a navigation
// rail that fits (every item visible or the rail shows that it scrolls, no
// label broken mid-word) and a header that keeps a long name on one line.
//
//   TSUNAGU_DEVSERVER=... .ci/keyring-session node --test frontend/tests/ui/wording.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useUiHarness, signInFirstAdmin, pickImportFile, chooseOwnPassword, call, choose } from './harness.mjs'

const CUSTOMERS = '顧客番号,氏名,フリガナ,店番\r\n1001,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,001\r\n1002,佐藤 花子,ｻﾄｳ ﾊﾅｺ,002\r\n'
const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-words-', pickFile: { name: '顧客一覧.csv', contents: CUSTOMERS } })

/** What a clerk must never read on a screen, each with why. */
const FORBIDDEN = [
  [/staff:/, 'an actor code instead of a name'],
  [/postback/i, 'LINE API jargon'],
  [/一括呼び出し/, 'API jargon'],
  [/(?<![\w@.-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{10,}(?![\w-])/i, 'a hash or internal ID'],
  [/SHA-?256/i, 'a hash name'],
  [/(?<![\w-])q\d+(?![\w-])/, 'a question ID'],
  [/(?<![\w-])(applied|calls|planned|lineMenuId|revision|designId|lineUserId|created|current|orphans|entries|encoding|profile|customers|contracts)(?![\w-])/, 'a raw detail key or value'],
  [/(?<![\w@-])(auth|staff|richmenu|customer|import|audit|backup|survey|campaign|conversation|message|linking|segment|automation|settings)\.[a-z_]+/, 'a raw action code'],
  [/顧客 \d{1,3}(?!\d)/, 'a customer by internal ID'],
]

function offences(text) {
  const out = []
  for (const [re, why] of FORBIDDEN) {
    const m = re.exec(text)
    if (m) out.push(`${why}: «${text.slice(Math.max(0, m.index - 30), m.index + m[0].length + 30).replaceAll('\n', ' ')}»`)
  }
  return out
}

test('no internal IDs or jargon on any screen', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await signInFirstAdmin(ui) // tanaka, 田中 支店長

  // Data that leaves actors, hashes and IDs behind: an import, a consent,
  // a published rich menu (its audit entries carry applied/calls/revision).
  await pickImportFile(page)
  await page.getByTestId('import-next').click()
  await page.getByTestId('import-dryrun').click()
  await page.getByTestId('import-run').click()
  await page.getByTestId('import-done').waitFor()
  const history = page.getByTestId('import-history')
  const historyText = await history.innerText()

  await page.getByTestId('nav-customers').click()
  await page.getByTestId('customer-row').first().waitFor()
  await page.locator('[data-testid="customer-row"][data-number="1001"]').click()
  const card = page.getByTestId('customer-card')
  await card.waitFor()
  await card.getByTestId('consent-grant-email').click()
  await card.getByTestId('card-consents').filter({ hasText: '同意あり' }).waitFor()
  const consentText = await card.getByTestId('card-consents').innerText()

  await page.getByTestId('nav-richmenus').click()
  const rm = page.getByTestId('richmenus-view')
  await rm.waitFor()
  await choose(page, rm.getByTestId('richmenu-template'), '小・3 分割')
  await rm.getByTestId('richmenu-new').click()
  await rm.getByTestId('richmenu-name').fill('会員メニュー')
  await rm.getByTestId('richmenu-placeholder').click()
  await rm.getByTestId('richmenu-design').filter({ hasText: '会員メニュー' }).waitFor()
  await choose(page, page.getByTestId('richmenu-assignments').getByTestId('richmenu-default'), '会員メニュー')
  await page.getByTestId('richmenu-save-assignments').click()
  await page.getByTestId('richmenu-publish-button').click()
  await page.getByTestId('richmenu-result').waitFor()
  await page.getByTestId('richmenu-status').filter({ hasText: '完了' }).waitFor()

  // A survey being written shows its questions (their IDs were on screen).
  await page.getByTestId('nav-surveys').click()
  await page.getByTestId('survey-new').click()
  await page.getByTestId('survey-question').first().waitFor()
  await ui.shot('words-survey-ja.png')

  // Walk every screen in the rail and read what it says.
  const found = []
  const ids = await page.locator('nav [data-testid^="nav-"]').evaluateAll((els) => els.map((e) => e.dataset.testid))
  assert.ok(ids.length >= 12, `the administrator sees every screen (${ids.length})`)
  for (const id of ids) {
    await page.getByTestId(id).click()
    await page.waitForTimeout(700) // the screen loads its data
    if (id === 'nav-customers') {
      await page.locator('[data-testid="customer-row"][data-number="1001"]').click()
      await page.getByTestId('customer-card').waitFor()
    }
    for (const o of offences(await page.locator('body').innerText())) found.push(`${id}: ${o}`)
    if (['nav-audit', 'nav-import', 'nav-customers', 'nav-richmenus'].includes(id)) await ui.shot(`words-${id.slice(4)}-ja.png`)
  }

  assert.deepEqual(found, [], `jargon or internal IDs on screen:\n${found.join('\n')}`)
  assert.match(historyText, /顧客一覧\.csv\s+田中 支店長/)
  assert.match(consentText, /田中 支店長/, 'the consent names who recorded it')

  // The audit trail in particular: people by name, customers by number,
  // every detail labelled.
  await page.getByTestId('nav-audit').click()
  const rows = page.getByTestId('audit-row')
  await rows.first().waitFor()
  const consent = rows.filter({ has: page.locator('[data-key="channel"]') }).first()
  assert.match(await consent.innerText(), /田中 支店長/)
  assert.match(await consent.innerText(), /顧客番号 1001/)
  const publish = page.locator('[data-testid="audit-row"][data-action="richmenu.sync"]').first()
  assert.match(await publish.innerText(), /切り替えた友だち/)

  // The header names the signed-in person, not the role name 担当者.
  const who = page.getByTestId('staff-name')
  assert.match(await who.innerText(), /ログイン中/)
  assert.doesNotMatch(await who.innerText(), /担当者/)
  assert.match(await who.innerText(), /田中 支店長/)

  // English: the same screens have no untranslated Japanese labels.
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
  await page.reload()
  await page.getByTestId('nav-audit').click()
  await rows.first().waitFor()
  await page.waitForTimeout(300)
  const en = await page.getByTestId('audit-view').innerText()
  assert.match(en, /Customer no\. 1001/)
  // What is left after the data's own names must be English.
  const rest = ['山田 太郎', '佐藤 花子', '田中 支店長', '会員メニュー', '顧客一覧.csv'].reduce((acc, n) => acc.replaceAll(n, ''), en)
  const ja = rest.match(/[^\n]*[ぁ-んァ-ヶ一-龥][^\n]*/g) ?? []
  assert.deepEqual(ja, [], 'untranslated text on the English audit screen')
  await ui.shot('words-audit-en.png')
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'ja'))
  await page.reload()
  await page.getByTestId('nav-inbox').waitFor()
  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})

/** For each rail label: where it breaks lines between two letters that
 * belong together (not at a space or an explicit break opportunity). */
async function railReport(page) {
  return page.evaluate(() => {
    const rail = document.querySelector('nav.rail')
    const rr = rail.getBoundingClientRect()
    const items = [...rail.querySelectorAll('[data-testid^="nav-"]')].map((el) => {
      const label = el.querySelector('.rail-label') ?? el.querySelector('span')
      const text = label.textContent
      const node = [...label.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim()) ?? label.firstChild
      const breaks = []
      const range = document.createRange()
      let lastTop = null
      const s = node.textContent
      for (let i = 0; i < s.length; i++) {
        range.setStart(node, i)
        range.setEnd(node, i + 1)
        const r = range.getClientRects()[0]
        if (!r) continue
        if (lastTop !== null && r.top > lastTop + 2) breaks.push(i)
        lastTop = r.top
      }
      const midWord = breaks.filter((i) => !/[\s\u200b]/.test(s[i - 1] ?? '') && !/[\s\u200b]/.test(s[i]))
      const b = el.getBoundingClientRect()
      return {
        id: el.dataset.testid,
        text,
        midWord: midWord.map((i) => `${s.slice(0, i)}/${s.slice(i)}`),
        overflows: label.scrollWidth > label.clientWidth + 1,
        visible: b.top >= rr.top - 1 && b.bottom <= rr.bottom + 1,
      }
    })
    const scrolls = rail.scrollHeight > rail.clientHeight + 1
    const more = document.querySelector('[data-testid="nav-more"]')
    const moreShown = !!more && more.getClientRects().length > 0
    return { items, scrolls, moreShown }
  })
}

test('the rail fits 1366×768 without mid-word breaks; a long name keeps the header on one line', async () => {
  const { page, pageErrors } = ui
  await page.setViewportSize({ width: 1366, height: 768 })
  await page.goto(`${ui.baseUrl}/`)
  // Run alone (--test-name-pattern), the data folder is still fresh.
  await Promise.race([page.getByTestId('nav-inbox').waitFor(), page.getByTestId('firstrun-form').waitFor()])
  if (await page.getByTestId('firstrun-form').isVisible()) await signInFirstAdmin(ui)
  await page.getByTestId('nav-inbox').waitFor()

  for (const [w, h, lang] of [
    [1366, 768, 'ja'],
    [1920, 1080, 'ja'],
    [1366, 768, 'en'],
  ]) {
    await page.setViewportSize({ width: w, height: h })
    if (lang === 'en') {
      await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'en'))
      await page.reload()
      await page.getByTestId('nav-inbox').waitFor()
    }
    await page.waitForTimeout(300)
    const r = await railReport(page)
    const hidden = r.items.filter((i) => !i.visible).map((i) => i.text)
    assert.ok(hidden.length === 0 || r.moreShown, `${w}×${h} ${lang}: ${hidden.join('、')} below the fold with no sign that the rail scrolls`)
    const broken = r.items.flatMap((i) => i.midWord)
    assert.deepEqual(broken, [], `${w}×${h} ${lang}: labels broken mid-word`)
    assert.deepEqual(r.items.filter((i) => i.overflows).map((i) => i.text), [], `${w}×${h} ${lang}: labels wider than the rail`)
    // A short name is never shortened: the tagline gives way first.
    const cut = await page.evaluate(() => {
      const s = document.querySelector('[data-testid="staff-name"] .staff-text')
      if (!s) return true
      // Fractional widths: the text's own box against the element's (an
      // ellipsis shows as soon as the text is wider by any fraction).
      const range = document.createRange()
      range.selectNodeContents(s)
      return range.getBoundingClientRect().width > s.getBoundingClientRect().width + 0.01
    })
    assert.equal(cut, false, `${w}×${h} ${lang}: the short name 田中 支店長 is cut off`)
    await ui.shot(`words-rail-${w}x${h}-${lang}.png`)
  }
  await page.evaluate(() => localStorage.setItem('tsunagu.locale', 'ja'))

  // A staff member with a long display name: the header stays one line,
  // the name is shortened with an ellipsis and complete in its tooltip.
  const long = '長谷川原 久美子（〇〇信用金庫 府中駅前支店 融資・預金ご相談窓口 担当）'
  const made = await call(page, 'CreateStaff', { login: 'hasegawa', displayName: long, role: 'operator', password: 'initial password 1' })
  assert.ok(made.ok, JSON.stringify(made.body))
  await page.setViewportSize({ width: 1366, height: 768 })
  await page.reload()
  await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-login').fill('hasegawa')
  await page.getByTestId('signin-password').fill('initial password 1')
  await page.getByTestId('signin-submit').click()
  await chooseOwnPassword(page, 'initial password 1', 'hasegawa own passphrase')
  await page.getByTestId('nav-inbox').waitFor()
  const header = await page.evaluate(() => {
    const h = document.querySelector('.app-header')
    const name = document.querySelector('[data-testid="staff-name"]')
    const text = name.querySelector('.staff-text') ?? name
    return {
      height: h.getBoundingClientRect().height,
      overflow: h.scrollWidth > h.clientWidth + 1,
      title: name.getAttribute('title') ?? '',
      ellipsis: getComputedStyle(text).textOverflow === 'ellipsis' && text.scrollWidth > text.clientWidth,
      buttonsInside: [...h.querySelectorAll('button')].every((b) => b.getBoundingClientRect().right <= window.innerWidth),
    }
  })
  assert.equal(header.height, 60, 'the header keeps its height')
  assert.equal(header.overflow, false, 'nothing spills out of the header')
  assert.ok(header.buttonsInside, 'every header button stays on screen')
  assert.ok(header.ellipsis, 'the long name is shortened with an ellipsis')
  assert.ok(header.title.includes(long), `the full name is in the tooltip: ${header.title}`)
  await ui.shot('words-header-long-name-ja.png')
  assert.deepEqual(pageErrors, [], `page errors: ${pageErrors.join('\n')}`)
})
