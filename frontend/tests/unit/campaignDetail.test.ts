// The campaign detail's states, mounted for real (Naive UI, vue-i18n) over a
// fake transport: approval blocked for the author, the progress bar and
// pause while sending, resume reserved to approvers. The charts are stubbed
// (happy-dom has no canvas); the UI test draws them in Chromium.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h, nextTick, type App } from 'vue'
import { NConfigProvider, NDialogProvider, NMessageProvider } from 'naive-ui'
import type { Transport } from '../../src/api/transport'
import type { Campaign, CampaignReport } from '../../src/api'
import { createPinia, setActivePinia } from 'pinia'
import { createAppI18n } from '../../src/i18n'

vi.mock('vue-echarts', () => ({ default: defineComponent({ props: ['option'], setup: () => () => h('div', { class: 'chart-stub' }) }) }))

const base: Campaign = {
  id: 7,
  name: '満期のご案内',
  segmentId: 0,
  rules: { op: 'and' },
  content: { line: [{ kind: 'text', text: '{氏名} 様' }], email: { subject: '', text: '' }, sms: { text: '' } },
  channels: ['line'],
  status: 'draft',
  version: 1,
  author: 'staff:tanaka',
  approvedBy: '',
  approvedVersion: 0,
  approvedAt: 0,
  scheduledAt: 0,
  timeZone: '',
  startedAt: 0,
  finishedAt: 0,
  error: '',
  createdAt: 1,
  updatedAt: 1,
  returnedBy: '',
  returnComment: '',
  returnedAt: 0,
}
const report: CampaignReport = {
  campaignId: 7,
  status: 'sending',
  matched: 4,
  channels: [{ channel: 'line', planned: 4, sent: 1, failed: 0, pending: 3, uncertain: 0 }],
  skipped: {},
  lineRequests: 1,
  lineSent: 0,
  lineFailed: 0,
  linePending: 1,
  timeline: [],
  startedAt: 1,
  finishedAt: 0,
  error: '',
}

let calls: { method: string; args: unknown[] }[] = []
function transport(campaign: Campaign): Transport {
  const methods: Record<string, (...a: unknown[]) => unknown> = {
    CampaignPlan: () => ({ matched: 4, line: 4, email: 0, sms: 0, skipped: {}, lineGroups: 1, lineRequests: 1, quotaNeed: 4, quotaChecked: true, quotaLimited: false, quotaLeft: 0, quotaLimit: 0, quotaError: '' }),
    CampaignReport: () => report,
    CampaignDeliveries: () => ({ total: 0, rows: [] }),
    CampaignInsights: () => ({ status: 'waiting', noUnit: false, fetchedAt: 0, final: false, stats: null }),
    CampaignLinkClicks: () => [],
    PreviewCampaignContent: () => ({ line: [{ type: 'text', text: '山田 花子 様' }], emailSubject: '', emailText: '', smsText: '', smsLength: { chars: 0, parts: 1, ucs2: false, maxChars: 160, tooLong: false }, templates: [], placeholders: [], errors: {}, sample: { name: '山田 花子', branch: '', staff: '' } }),
    Campaign: () => campaign,
    PauseCampaign: () => ({ ...campaign, status: 'paused' }),
  }
  return {
    kind: 'http',
    async call(method, args) {
      calls.push({ method, args })
      const fn = methods[method]
      if (!fn) throw new Error(`unexpected call ${method}`)
      return fn(...args)
    },
    on: () => () => {},
    onConnection: () => () => {},
  }
}

let app: App | null = null
async function mount(campaign: Campaign, login: string, permissions: string[]) {
  const { setTransport } = await import('../../src/api/client')
  const { useSession } = await import('../../src/stores/session')
  const pinia = createPinia()
  setActivePinia(pinia)
  const session = useSession()
  const { default: CampaignDetail } = await import('../../src/components/campaigns/CampaignDetail.vue')
  setTransport(transport(campaign))
  session.state = { firstRun: false, signedIn: true, locked: false, staff: { login, displayName: login, role: 'operator' }, permissions, idleMinutes: 15, masked: false, mustChangePassword: false }
  const changed: Campaign[] = []
  const el = document.createElement('div')
  document.body.appendChild(el)
  app = createApp({
    render: () =>
      h(NConfigProvider, null, () =>
        h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(CampaignDetail, { campaign, onChanged: (c: Campaign) => changed.push(c) }))),
      ),
  })
  app.use(pinia)
  app.use(createAppI18n('ja'))
  app.mount(el)
  await flush()
  return { el, changed }
}
async function flush() {
  for (let i = 0; i < 5; i++) {
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
  }
}
const q = (el: Element, id: string) => el.querySelector(`[data-testid="${id}"]`)

beforeEach(() => {
  calls = []
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('campaign detail', () => {
  it('disables approval for the author and says why', async () => {
    const { el } = await mount(base, 'tanaka', ['drafts', 'approve'])
    expect((q(el, 'campaign-approve') as HTMLButtonElement).disabled).toBe(true)
    expect(q(el, 'approve-blocker')?.textContent).toContain('ご自身が作成したキャンペーンは承認できません')
    expect(calls.some((c) => c.method === 'ApproveCampaign')).toBe(false)
  })

  it('lets another approver approve', async () => {
    const { el } = await mount(base, 'suzuki', ['drafts', 'approve'])
    expect((q(el, 'campaign-approve') as HTMLButtonElement).disabled).toBe(false)
    expect(q(el, 'approve-blocker')).toBeNull()
  })

  it('shows the progress while sending and pauses', async () => {
    const sending = { ...base, status: 'sending' as const, approvedBy: 'staff:suzuki', approvedVersion: 1 }
    const { el, changed } = await mount(sending, 'tanaka', ['drafts'])
    expect(q(el, 'campaign-progress')?.textContent).toContain('25%')
    expect(q(el, 'campaign-resume')).toBeNull()
    ;(q(el, 'campaign-pause') as HTMLButtonElement).click()
    await flush()
    expect(calls.find((c) => c.method === 'PauseCampaign')?.args).toEqual([7])
    expect(changed.at(-1)?.status).toBe('paused')
  })

  it('reserves resuming to approvers', async () => {
    const paused = { ...base, status: 'paused' as const, approvedBy: 'staff:suzuki', approvedVersion: 1 }
    const { el } = await mount(paused, 'tanaka', ['drafts'])
    expect((q(el, 'campaign-resume') as HTMLButtonElement).disabled).toBe(true)
    expect(q(el, 'release-needs-approver')?.textContent).toContain('承認者の役割')
  })
})
