// New surveys and questions as the editor starts them.
import type { Survey, SurveyQuestion } from './contract.gen'

/** Question types of internal/survey. */
export type QuestionType = 'single' | 'multi' | 'number' | 'date' | 'text'

/** A new empty survey in Japanese, with one single-choice question. */
export function newSurvey(): Survey {
  return {
    id: 0,
    name: '',
    intro: '',
    thanks: 'ご回答ありがとうございました。',
    answerRule: 'latest',
    status: 'draft',
    questions: [newQuestion(1, 'single')],
    copiedFrom: 0,
    createdBy: '',
    updatedBy: '',
    updatedAt: 0,
    hasAnswers: false,
  }
}

export function newQuestion(n: number, type: QuestionType): SurveyQuestion {
  const q: SurveyQuestion = { id: `q${n}`, type, text: '', next: '', attribute: '' }
  if (type === 'single' || type === 'multi') q.choices = [{ id: 'a1', label: 'はい' }, { id: 'a2', label: 'いいえ' }]
  return q
}
