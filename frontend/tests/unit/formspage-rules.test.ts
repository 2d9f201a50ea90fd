// The web form page's rules (frontend/forms-page/src/rules.ts), in node:
// which sections and questions show for the answers so far, what is sent,
// and how answers read on the confirmation step. internal/forms
// TestConditionalAnswers holds the desktop to the same cases.
import { describe, expect, it } from 'vitest'
import { answersToSend, check, shown, visible, type Question } from '../../forms-page/src/rules'

const qs: Question[] = [
  { id: 's1', type: 'section', label: 'ご相談の内容' },
  { id: 'purpose', type: 'choice', label: 'ご相談の目的', required: true, choices: ['資産運用', '住宅ローン'] },
  { id: 's2', type: 'section', label: '住宅ローン', showIf: { question: 'purpose', values: ['住宅ローン'] } },
  { id: 'loan', type: 'choice', label: '現在のローン', required: true, choices: ['あり', 'なし'] },
  { id: 'lender', type: 'text', label: 'お借入先', required: true, showIf: { question: 'loan', values: ['あり'] } },
  { id: 's3', type: 'section', label: 'ご連絡' },
  { id: 'via', type: 'multi', label: 'ご連絡方法', choices: ['電話', 'LINE', 'その他'] },
  { id: 'other', type: 'text', label: 'その他の方法', required: true, showIf: { question: 'via', values: ['その他'] } },
  { id: 'consent', type: 'consent', label: '個人情報', required: true, consent: '…' },
]
const ids = (vis: boolean[]) => qs.filter((_, i) => vis[i]).map((q) => q.id).join(',')

describe('form page rules', () => {
  it('shows a section and what it holds only when the earlier answer calls for it', () => {
    expect(ids(visible(qs, {}))).toBe('s1,purpose,s3,via,consent')
    expect(ids(visible(qs, { purpose: '資産運用', loan: 'あり' }))).toBe('s1,purpose,s3,via,consent')
    expect(ids(visible(qs, { purpose: '住宅ローン' }))).toBe('s1,purpose,s2,loan,s3,via,consent')
    expect(ids(visible(qs, { purpose: '住宅ローン', loan: 'あり' }))).toBe('s1,purpose,s2,loan,lender,s3,via,consent')
    expect(ids(visible(qs, { purpose: '住宅ローン', loan: 'なし' }))).toBe('s1,purpose,s2,loan,s3,via,consent')
    expect(ids(visible(qs, { via: ['電話', 'その他'] }))).toContain('other')
    expect(ids(visible(qs, { via: ['電話'] }))).not.toContain('other')
  })

  it('sends only what is shown, keeping what is typed in hidden fields out of the box', () => {
    const typed = { purpose: '資産運用', loan: 'あり', lender: 'A銀行', via: ['LINE'], other: '手紙', consent: 'agreed' }
    expect(answersToSend(qs, typed)).toEqual({ purpose: '資産運用', via: ['LINE'], consent: 'agreed' })
    expect(answersToSend(qs, { ...typed, purpose: '住宅ローン', lender: '  A銀行 ' })).toEqual({
      purpose: '住宅ローン', loan: 'あり', lender: 'A銀行', via: ['LINE'], consent: 'agreed',
    })
  })

  it('checks each answer with a message that says what to do', () => {
    const req = qs[4] as Question
    expect(check(req, '')).toBe('入力してください。')
    expect(check(req, 'A銀行')).toBe('')
    expect(check(qs[1] as Question, '')).toBe('選択してください。')
    expect(check(qs[8] as Question, '')).toContain('同意する')
    expect(check({ id: 'n', type: 'number', label: '年齢', min: 0, max: 120 }, '130')).toBe('120以下の数を入力してください。')
    expect(check({ id: 'p', type: 'phone', label: '電話' }, '03-1234-5678')).toBe('')
  })

  it('reads answers on the confirmation step as the customer gave them', () => {
    expect(shown(qs[6] as Question, ['電話', 'LINE'])).toBe('電話、LINE')
    expect(shown(qs[6] as Question, [])).toBe('（未回答）')
    expect(shown(qs[8] as Question, 'agreed')).toBe('同意する')
    expect(shown(qs[4] as Question, ' A銀行 ')).toBe('A銀行')
  })
})

describe('birth date and postal answers', () => {
  const birth: Question = { id: 'b', type: 'birthdate', label: '生年月日', required: true }
  const addr: Question = { id: 'a', type: 'postal', label: 'ご住所', required: true }
  const blank = { code: '', pref: '', city: '', town: '', building: '' }

  it('takes 西暦 or 和暦 and sends YYYY-MM-DD', () => {
    expect(check(birth, '昭和60年4月1日', '2026-12-06')).toBe('')
    expect(check(birth, '1985/4/1', '2026-12-06')).toBe('')
    expect(check(birth, '平成32年1月1日', '2026-12-06')).toContain('昭和60年4月1日')
    expect(check(birth, '2027-01-01', '2026-12-06')).toContain('確かめて')
    expect(answersToSend([birth], { b: 'S60.4.1' })).toEqual({ b: '1985-04-01' })
    expect(shown(birth, '令和元年5月1日')).toBe('2019年5月1日（令和元年5月1日）')
  })

  it('needs the whole address once any of it is given, and sends it as typed', () => {
    expect(check(addr, blank)).toBe('郵便番号と住所を入力してください。')
    expect(check({ ...addr, required: false }, blank)).toBe('')
    expect(check(addr, { ...blank, code: '100-00' })).toContain('7桁')
    expect(check(addr, { ...blank, code: '１００－０００１' })).toBe('都道府県を選んでください。')
    expect(check(addr, { ...blank, code: '1000001', pref: '東京都', city: '千代田区' })).toContain('町名・番地')
    const full = { code: '１００－０００１', pref: '東京都', city: '千代田区 ', town: '千代田1-1', building: '' }
    expect(check(addr, full)).toBe('')
    expect(answersToSend([addr], { a: full })).toEqual({ a: { code: '1000001', pref: '東京都', city: '千代田区', town: '千代田1-1', building: '' } })
    expect(shown(addr, full)).toBe('〒100-0001 東京都千代田区千代田1-1')
    expect(answersToSend([{ ...addr, required: false }], { a: blank })).toEqual({ a: '' })
  })
})
