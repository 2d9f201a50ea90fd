// Issue 18, the first step of seats: two browsers on one devserver are the
// window and a seat PC (the dev bridge's ?seat=), each signed in as its own
// staff member; signing out at the seat leaves the window as it was.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { useUiHarness, signInFirstAdmin, chooseOwnPassword, mustCall, signIn, openSeat, artifactsDir } from './harness.mjs'

const ui = useUiHarness({ dataPrefix: 'tsunagu-ui-seats-' })

test('the window and a seat are signed in as two staff members; signing out at the seat leaves the window', async () => {
  const { page } = ui
  await signInFirstAdmin(ui)
  await mustCall(page, 'CreateStaff', { login: 'madoguchi', displayName: '窓口 花子', role: 'operator', password: 'initial password 18' })

  const seat = await openSeat(ui, '窓口2')
  // The seat starts at the sign-in form although the window is signed in.
  await signIn(seat, 'madoguchi', 'initial password 18')
  await chooseOwnPassword(seat, 'initial password 18', 'madoguchi passphrase 18')
  await seat.getByTestId('nav-inbox').waitFor()

  // The header names who is signed in, and their role.
  const header = async (p) => (await p.getByTestId('staff-name').innerText()).replace(/\s+/g, ' ').trim()
  assert.equal(await header(page), 'ログイン中： 田中 支店長 管理者')
  assert.match(await header(seat), /^ログイン中： 窓口 花子 /)
  // Each has its own role: the operator's seat has no staff screen.
  assert.equal(await seat.getByTestId('nav-staff').count(), 0)
  await page.getByTestId('nav-staff').waitFor()
  await ui.shot('seats-window-ja.png')
  await seat.screenshot({ path: join(artifactsDir, 'seats-seat-ja.png') })

  // Signing out at the seat: the seat is at the sign-in form, the window works on.
  await seat.getByTestId('sign-out').click()
  await seat.getByTestId('signin-form').waitFor()
  await page.getByTestId('nav-staff').click()
  assert.equal(await header(page), 'ログイン中： 田中 支店長 管理者')
  assert.ok((await mustCall(page, 'ListStaff')).length >= 2)

  // The audit trail names the seat beside the staff member.
  await page.getByTestId('nav-audit').click()
  const seatSignIn = page.getByTestId('audit-row').filter({ hasText: '窓口 花子' }).filter({ hasText: '操作した端末（子機）' }).first()
  await seatSignIn.waitFor()
  assert.match(await seatSignIn.innerText(), /窓口2/)
  await seatSignIn.scrollIntoViewIfNeeded()
  await ui.shot('seats-audit-ja.png')
  assert.deepEqual(ui.pageErrors, [])
  await seat.context().close()
})

test('two seats in one conversation: each sees the other there, and a reply crossing a colleague\'s asks first', async () => {
  const { page } = ui // the window, signed in as 田中 支店長 by the first test
  const seat = await openSeat(ui, '窓口2')
  await signIn(seat, 'madoguchi', 'madoguchi passphrase 18')
  await seat.getByTestId('nav-inbox').waitFor()
  const sims = await mustCall(page, 'SandboxCustomers')
  await mustCall(page, 'SandboxSend', sims[0].userId, '住所が変わりました。手続きを教えてください。')

  for (const p of [page, seat]) {
    await p.getByTestId('nav-inbox').click()
    await p.getByTestId('conversation-item').first().click()
    await p.getByTestId('composer-input').waitFor()
  }
  // Each sees who else is in it, and at which PC.
  await page.getByTestId('presence').filter({ hasText: '窓口 花子（窓口2）さんもこの会話を開いています' }).waitFor()
  await seat.getByTestId('presence').filter({ hasText: '田中 支店長さんもこの会話を開いています' }).waitFor()
  await ui.shot('seats-presence-window-ja.png')

  // The seat begins a reply; the window answers first.
  const SEAT_REPLY = '窓口2の窓口 花子です。ご本人確認書類をお持ちください。'
  await seat.getByTestId('composer-input').fill(SEAT_REPLY)
  await page.getByTestId('composer-input').fill('田中です。ご来店の際はお声がけください。')
  await page.getByTestId('composer-send').click()
  await page.getByTestId('message-bubble').filter({ hasText: '田中です。' }).waitFor()

  // Sending now asks first; going back keeps the reply and sends nothing.
  await seat.getByTestId('composer-send').click()
  const dialog = seat.locator('.n-dialog').filter({ hasText: '他の職員が先に返信しています' })
  await dialog.waitFor()
  assert.match(await dialog.innerText(), /田中 支店長さんが \d{2}:\d{2} にこのお客さまへ返信しました（1 件）/)
  await seat.screenshot({ path: join(artifactsDir, 'seats-answered-confirm-ja.png') })
  await seat.getByTestId('answered-back').click()
  await dialog.waitFor({ state: 'detached' })
  assert.equal(await seat.getByTestId('composer-input').inputValue(), SEAT_REPLY)
  await seat.getByTestId('message-bubble').filter({ hasText: '田中です。' }).waitFor()
  assert.equal(await seat.getByTestId('message-bubble').filter({ hasText: '窓口2の窓口 花子です。' }).count(), 0)

  // Read, then sent: no second question; the window sees it.
  await seat.getByTestId('composer-send').click()
  await seat.getByTestId('message-bubble').filter({ hasText: '窓口2の窓口 花子です。' }).waitFor()
  assert.equal(await seat.locator('.n-dialog').count(), 0)
  await page.getByTestId('message-bubble').filter({ hasText: '窓口2の窓口 花子です。' }).waitFor()

  // The seat leaves (signs out): the window's note goes.
  await seat.getByTestId('sign-out').click()
  await page.getByTestId('presence').waitFor({ state: 'detached' })
  assert.deepEqual(ui.pageErrors, [])
  await seat.context().close()
})
