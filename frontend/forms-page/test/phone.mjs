// Plays the customer's phone for internal/forms' end-to-end test: Debian's
// Chromium (playwright-core, never a downloaded browser) at 375×667, in
// Japanese, opening the relay's form page as LINE would (the LINE
// simulator's LIFF stand-in) or outside LINE. One JSON argument:
//   {"shots": DIR, "outside": URL, "runs": [{"name", "url", "fill": [...], "submitEmptyFirst", "dropFirstAnswer", "shotFilled"}]}
// fill items: {"label", "value"} types into the field labelled so;
// {"legend", "check": [...]} ticks choices of a fieldset;
// {"select", "value"} picks an option of the select labelled so;
// {"postal", "expect": "filled"|"failed"} types a postal code and waits for
// the lookup's word, keeping what it filled in as "lookups".
// "blockPostal" makes the relay's postal-code table unreachable.
// "read": [labels] keeps those fields' values as the page opened ("values"),
// with the prefill marks ("marks": fields marked as filled in) and the
// calm note a link whose values cannot be used shows ("note");
// "readOnly" stops there (nothing sent); "shotOpened" takes
// forms-phone-NAME-opened.png.
// Every run goes 「確認へ進む」 → the confirmation step (its text kept as
// "confirm", screenshot forms-phone-NAME-confirm.png) → 「送信する」.
// Prints one JSON line: {"outside": text, "runs": [{"name", "errors": [...], "confirm": text, "done": text, "posts": n}]}.
import { chromium } from 'playwright-core'
import { join } from 'node:path'

const arg = JSON.parse(process.argv[2])
const browser = await chromium.launch({ executablePath: process.env.TSUNAGU_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--lang=ja-JP'] })
const out = { runs: [] }
try {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 667 }, locale: 'ja-JP', deviceScaleFactor: 2, isMobile: true, hasTouch: true })
  const page = await ctx.newPage()
  await page.goto(arg.outside)
  await page.getByRole('heading').waitFor()
  await page.getByText('LINEアプリの中で').waitFor()
  out.outside = await page.locator('main').innerText()
  await page.screenshot({ path: join(arg.shots, 'forms-phone-outside-line.png') })
  await page.close()

  for (const run of arg.runs) {
    const page = await ctx.newPage()
    const res = { name: run.name, posts: 0, errors: [], lookups: [] }
    if (run.blockPostal) await page.route('**/postal/**', (route) => route.abort('failed'))
    page.on('request', (r) => { if (r.method() === 'POST') res.posts++ })
    if (run.dropFirstAnswer) {
      // The answer reaches the relay, but the phone loses the reply (a
      // tunnel, a flaky mobile network): the page must keep what was typed
      // and send the same submission again.
      let dropped = false
      await page.route('**/f/**', async (route) => {
        if (route.request().method() !== 'POST' || dropped) return route.continue()
        dropped = true
        const r = await route.fetch()
        res.firstStatus = r.status()
        await route.abort('failed')
      })
    }
    await page.goto(run.url)
    await page.getByRole('button', { name: '確認へ進む' }).waitFor()
    res.url = page.url()
    if (run.read) {
      res.values = {}
      for (const l of run.read) res.values[l] = await page.getByLabel(l, { exact: true }).inputValue()
      res.marks = await page.locator('.prefilled').count()
      res.note = (await page.locator('.note').allInnerTexts()).join('\n')
      res.main = await page.locator('main').innerText()
      if (run.shotOpened) await page.screenshot({ path: join(arg.shots, `forms-phone-${run.name}-opened.png`), fullPage: true })
    }
    if (run.readOnly) {
      out.runs.push(res)
      await page.close()
      continue
    }
    if (run.submitEmptyFirst) {
      await page.getByRole('button', { name: '確認へ進む' }).click()
      await page.locator('[aria-invalid="true"]').first().waitFor()
      res.errors = await page.locator('.err:not(:empty)').allInnerTexts()
      res.focused = await page.evaluate(() => document.activeElement?.id || '')
      await page.screenshot({ path: join(arg.shots, `forms-phone-${run.name}-errors.png`) })
    }
    for (const f of run.fill) {
      if (f.label) await page.getByLabel(f.label, { exact: true }).fill(f.value)
      else if (f.select) await page.getByLabel(f.select, { exact: true }).selectOption(f.value)
      else if (f.postal) {
        await page.getByLabel('郵便番号', { exact: true }).fill(f.postal)
        await page.getByText(f.expect === 'filled' ? '住所を入力しました' : '住所を自動で入力できませんでした').waitFor()
        const v = (l) => page.getByLabel(l, { exact: true }).inputValue()
        res.lookups.push({ pref: await v('都道府県'), city: await v('市区町村'), town: await v('町名・番地') })
      } else {
        const fs = page.locator('fieldset').filter({ has: page.locator('legend', { hasText: f.legend }) })
        for (const c of f.check) await fs.getByLabel(c, { exact: true }).check()
      }
    }
    if (run.submitEmptyFirst) res.errorsAfterFill = await page.locator('.err:not(:empty)').count()
    if (run.shotFilled) await page.screenshot({ path: join(arg.shots, `forms-phone-${run.name}-filled.png`), fullPage: true })
    res.shown = await page.locator('label:visible, legend:visible').allInnerTexts()
    await page.getByRole('button', { name: '確認へ進む' }).click()
    await page.getByRole('heading', { name: '入力内容の確認' }).waitFor()
    res.confirm = await page.locator('.review').innerText()
    await page.screenshot({ path: join(arg.shots, `forms-phone-${run.name}-confirm.png`), fullPage: true })
    await page.getByRole('button', { name: '送信する' }).click()
    if (run.dropFirstAnswer) {
      // The reply was lost: back to the form (「修正する」), everything
      // typed still there, and the same submission sent again.
      await page.getByText('送信できませんでした').waitFor()
      await page.screenshot({ path: join(arg.shots, `forms-phone-${run.name}-resend.png`) })
      await page.getByRole('button', { name: '修正する' }).click()
      res.kept = await page.getByLabel(run.fill[0].label, { exact: true }).inputValue()
      await page.getByRole('button', { name: '確認へ進む' }).click()
      await page.getByRole('button', { name: '送信する' }).click()
    }
    await page.locator('.done').waitFor({ timeout: 30_000 })
    res.errorsLeft = await page.locator('.err:not(:empty)').count()
    res.done = await page.locator('main').innerText()
    await page.screenshot({ path: join(arg.shots, `forms-phone-${run.name}-done.png`) })
    out.runs.push(res)
    await page.close()
  }
} finally {
  await browser.close()
}
console.log(JSON.stringify(out))
