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
