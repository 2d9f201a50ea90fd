// Plays customers' phones for internal/booking's end-to-end test: Debian's
// Chromium (playwright-core, never a downloaded browser) at 375×667, in
// Japanese, opening the relay's booking page as LINE would (the LINE
// simulator's LIFF stand-in) or outside LINE. One JSON argument:
//   {"shots": DIR, "step": "race", "outside": URL, "a": URL, "b": URL, "day": "12月29日（火）", "time": "10:00〜11:00", "noteA": ..., "noteB": ...}
//   {"shots": DIR, "step": "manage", "manage": URL, "forged": URL, "day": ..., "time": ...}
// Prints one JSON line with what each phone showed.
import { chromium } from 'playwright-core'
import { join } from 'node:path'

const arg = JSON.parse(process.argv[2])
const browser = await chromium.launch({ executablePath: process.env.TSUNAGU_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--lang=ja-JP'] })
const out = {}
const phone = async () => {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 667 }, locale: 'ja-JP', deviceScaleFactor: 2, isMobile: true, hasTouch: true })
  return ctx.newPage()
}
const shot = (page, name) => page.screenshot({ path: join(arg.shots, `booking-phone-${name}.png`) })

// pick walks from the day list to the confirmation of day/time.
async function pick(page, name) {
  await page.getByRole('heading', { name: '日にちを選んでください' }).waitFor()
  if (name) await shot(page, `${name}-days`)
  await page.getByRole('button', { name: new RegExp('^' + arg.day) }).click()
  await page.getByRole('heading', { name: `${arg.day}の空いている時間` }).waitFor()
  if (name) await shot(page, `${name}-times`)
  await page.getByRole('button', { name: new RegExp('^' + arg.time) }).click()
  await page.getByRole('heading', { name: /確認/ }).waitFor()
}

try {
  if (arg.step === 'race') {
    const outside = await phone()
    await outside.goto(arg.outside)
    await outside.getByText('LINEアプリの中で').waitFor()
    out.outside = await outside.locator('main').innerText()
    await shot(outside, 'outside-line')

    // Two customers reach the confirmation of the same last place, then
    // press 予約する at the same moment.
    const a = await phone()
    const b = await phone()
    await Promise.all([a.goto(arg.a), b.goto(arg.b)])
    await pick(a, 'a')
    await pick(b, '')
    await a.getByLabel('ご相談内容').fill(arg.noteA)
    await b.getByLabel('ご相談内容').fill(arg.noteB)
    await shot(a, 'a-confirm')
    await Promise.all([a.getByRole('button', { name: '予約する' }).click(), b.getByRole('button', { name: '予約する' }).click()])
    const settle = async (page) => {
      const h = page.getByRole('heading', { name: /ご予約を受け付けました|満席になりました/ })
      await h.waitFor({ timeout: 30_000 })
      return { heading: await h.innerText(), text: await page.locator('main').innerText(), alert: await page.getByRole('alert').count() }
    }
    ;[out.a, out.b] = await Promise.all([settle(a), settle(b)])
    await shot(a, 'a-result')
    await shot(b, 'b-result')
    // The one told "taken" sees the other free times and can pick one.
    const loser = out.a.heading.includes('満席') ? a : b
    out.otherTimes = await loser.locator('.times button').count()
  } else {
    // The winner opens the LINE confirmation's link and cancels.
    const m = await phone()
    await m.goto(arg.manage)
    await m.getByRole('heading', { name: 'ご予約の確認' }).waitFor()
    out.manage = await m.locator('main').innerText()
    await shot(m, 'manage')
    await m.getByRole('button', { name: 'この予約をキャンセルする' }).click()
    await m.getByRole('heading', { name: 'キャンセルの確認' }).waitFor()
    await shot(m, 'cancel-confirm')
    await m.getByRole('button', { name: 'キャンセルする', exact: true }).click()
    await m.getByRole('heading', { name: 'キャンセルを受け付けました' }).waitFor({ timeout: 30_000 })
    out.cancelled = await m.locator('main').innerText()
    await shot(m, 'cancelled')

    // Someone with a forged LINE sign-in books: the relay holds the place
    // (it cannot tell), the desktop will refuse it and give it back.
    const f = await phone()
    await f.goto(arg.forged)
    await pick(f, '')
    await f.getByRole('button', { name: '予約する' }).click()
    await f.getByRole('heading', { name: /ご予約を受け付けました|満席/ }).waitFor({ timeout: 30_000 })
    out.forged = await f.locator('main').innerText()
  }
} finally {
  await browser.close()
}
console.log(JSON.stringify(out))
