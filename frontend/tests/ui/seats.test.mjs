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
