import { describe, expect, it, vi } from 'vitest'
import { remindOfUpdates } from '../../src/composables/updateReminder'
import type { AboutInfo, UpdateCheck } from '../../src/api'

const about = (over: Partial<AboutInfo> = {}): AboutInfo => ({
  version: 'v1.0.0', numeric: '1.0.0.0', commit: '', date: '', goVersion: 'go', wails: '', os: 'windows', arch: 'amd64',
  dataDir: 'C:\\Users\\x\\AppData\\Roaming\\Tsunagu', updateConfigured: true, updateLocation: '\\\\fs\\u', updatePolicyFrom: 'HKLM', updateError: '',
  ...over,
})
const offer: UpdateCheck = {
  status: 'available', current: '1.0.0.0', latest: '1.1.0.0',
  offer: { version: '1.1.0', released: '2026-11-25', notes: { ja: '', en: '' }, installer: 'x', size: 1, sha256: 'ab' },
}

async function run(info: AboutInfo, check: UpdateCheck | Error) {
  vi.useFakeTimers()
  const tell = vi.fn()
  const client = {
    AppVersion: vi.fn(async () => info),
    CheckForUpdate: vi.fn(async () => {
      if (check instanceof Error) throw check
      return check
    }),
  }
  remindOfUpdates(tell, 1000, client)
  await vi.advanceTimersByTimeAsync(1000)
  vi.useRealTimers()
  return { tell, client }
}

describe('update reminder', () => {
  it('tells about a verified offer', async () => {
    const { tell } = await run(about(), offer)
    expect(tell).toHaveBeenCalledWith(offer)
  })
  it('stays quiet when up to date, unconfigured, a test build, or failing', async () => {
    expect((await run(about(), { status: 'upToDate', current: '1', latest: '1' })).tell).not.toHaveBeenCalled()
    const unconfigured = await run(about({ updateConfigured: false }), offer)
    expect(unconfigured.tell).not.toHaveBeenCalled()
    expect(unconfigured.client.CheckForUpdate).not.toHaveBeenCalled()
    expect((await run(about({ numeric: '' }), offer)).client.CheckForUpdate).not.toHaveBeenCalled()
    expect((await run(about(), new Error('update.errors.unreachable'))).tell).not.toHaveBeenCalled()
  })
})
