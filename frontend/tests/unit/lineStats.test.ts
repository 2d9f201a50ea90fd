// LINE's statistics in the campaign report, mounted for real (Naive UI,
// vue-i18n) over a fake transport: figures as bars per message and per link,
// withheld figures (under 20 people) in words and never as a bar, the
// "next day" state before LINE has any, and the month's unit limit. The
// charts are stubbed (happy-dom has no canvas); BarChart's data-values say
// what they would draw. The UI test (insight.test.mjs) draws them in Chromium.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h, nextTick, type App } from 'vue'
import { NConfigProvider, NMessageProvider } from 'naive-ui'
import type { Transport } from '../../src/api/transport'
import type { InsightsReport } from '../../src/api'
import { createPinia, setActivePinia } from 'pinia'
import { createAppI18n } from '../../src/i18n'

vi.mock('vue-echarts', () => ({ default: defineComponent({ props: ['option'], setup: () => () => h('div', { class: 'chart-stub' }) }) }))

const f = (value: number) => ({ value, withheld: false })
const withheld = { value: 0, withheld: true }
const ready: InsightsReport = {
  status: 'ready',
  noUnit: false,
  fetchedAt: Date.UTC(2026, 11, 2, 1, 0),
  final: false,
  stats: {
    opened: f(300),
    clicked: f(100),
    played: withheld,
    finished: withheld,
    bubbles: [
      { seq: 1, opened: f(300), played: withheld, finished: withheld },
      { seq: 2, opened: f(280), played: withheld, finished: withheld },
    ],
    links: [
      { seq: 2, url: 'https://example-shinkin.jp/news', clicked: f(100), taps: f(130) },
      { seq: 2, url: 'https://example-shinkin.jp/rates', clicked: withheld, taps: withheld },
    ],
  },
}

let calls: string[] = []
function transport(answer: InsightsReport): Transport {
  return {
    kind: 'http',
    async call(method) {
      calls.push(method)
      if (method === 'CampaignInsights' || method === 'RefreshCampaignInsights') return answer
      throw new Error(`unexpected call ${method}`)
    },
    on: () => () => {},
    onConnection: () => () => {},
  }
}

let app: App | null = null
async function mount(answer: InsightsReport, lang: 'ja' | 'en' = 'ja') {
  const { setTransport } = await import('../../src/api/client')
  setActivePinia(createPinia())
  const { default: LineStatsPanel } = await import('../../src/components/campaigns/LineStatsPanel.vue')
  setTransport(transport(answer))
  const el = document.createElement('div')
  document.body.appendChild(el)
  app = createApp({
    render: () => h(NConfigProvider, null, () => h(NMessageProvider, null, () => h(LineStatsPanel, { campaignId: 7, delivered: 1000, refreshKey: 0 }))),
  })
  app.use(createPinia())
  app.use(createAppI18n(lang))
  app.mount(el)
  for (let i = 0; i < 5; i++) {
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
  }
  return el
}
const q = (el: Element, id: string) => el.querySelector(`[data-testid="${id}"]`)

afterEach(() => {
  app?.unmount()
  app = null
  calls = []
  document.body.innerHTML = ''
})

describe('LINE statistics panel', () => {
  it('draws the figures LINE shows and names the withheld ones in words', async () => {
    const el = await mount(ready)
    expect(calls).toEqual(['CampaignInsights'])
    expect(q(el, 'line-stats-delivered')?.textContent).toBe('1,000')
    expect(q(el, 'line-stats-opened')?.textContent).toBe('300')
    expect(q(el, 'line-stats-clicked')?.textContent).toBe('100')
    expect(q(el, 'line-stats-played')?.textContent).toBe('人数が少ないため表示されません')
    // Per bubble: opens only (plays are withheld overall), as bars.
    expect(q(el, 'line-stats-bubble-chart')?.getAttribute('data-values')).toBe('300,280')
    expect(q(el, 'line-stats-bubble-withheld')).toBeNull()
    // Per link: the one LINE shows is a bar, the other is words, not a zero bar.
    expect(q(el, 'line-stats-link-chart')?.getAttribute('data-values')).toBe('100')
    expect(q(el, 'line-stats-link-withheld')?.textContent).toContain('メッセージ 2：example-shinkin.jp/rates：人数が少ないため表示されません')
    expect(el.textContent).toContain('20 人未満の数は LINE が表示しません')
  })

  it('says the figures come the next day before LINE has any', async () => {
    const el = await mount({ status: 'waiting', noUnit: false, fetchedAt: 0, final: false, stats: null })
    expect(q(el, 'line-stats-waiting')?.textContent).toContain('LINE の集計は翌日に反映されます')
    expect(q(el, 'line-stats-opened')).toBeNull()
    ;(q(el, 'line-stats-check') as HTMLButtonElement).click()
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
    expect(calls).toEqual(['CampaignInsights', 'RefreshCampaignInsights'])
  })

  it('explains a campaign sent past the month’s unit limit, and offers no check', async () => {
    const el = await mount({ status: 'none', noUnit: true, fetchedAt: 0, final: false, stats: null })
    expect(q(el, 'line-stats-none')?.textContent).toContain('集計枠（月 1,000 件）を使い切っていた')
    expect(q(el, 'line-stats-check')).toBeNull()
  })

  it('is translated', async () => {
    const el = await mount(ready, 'en')
    expect(q(el, 'line-stats-played')?.textContent).toBe('Too few people to show')
    expect(el.textContent).not.toMatch(/campaigns\.[a-z]/)
  })
})
