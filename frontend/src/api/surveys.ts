// Wire types and calls of surveys (app/facade/surveys.go, internal/survey)
// and of the sandbox phone's buttons (internal/linesim/actions.go).
// Timestamps are unix milliseconds.
import { transport } from './client'
import { notifySessionError } from './session-errors'
import { toErrorCode } from './errors'

export type QuestionType = 'single' | 'multi' | 'number' | 'date' | 'text'

export interface SurveyChoice {
  id: string
  label: string
  /** A question ID, 'end', or '' (the question's next). Single choice only. */
  next?: string
  /** The mapped attribute's value for this choice ('' = the label). */
  attrValue?: string
}

export interface SurveyQuestion {
  id: string
  type: QuestionType
  text: string
  choices?: SurveyChoice[]
  /** A later question's ID, 'end', or '' (the following question). */
  next?: string
  /** Key of the customer attribute the answer sets ('' = none). */
  attribute?: string
}

export interface Survey {
  id: number
  name: string
  intro: string
  thanks: string
  answerRule: 'first' | 'latest'
  status: 'draft' | 'open' | 'closed'
  questions: SurveyQuestion[]
  copiedFrom: number
  createdBy: string
  updatedBy: string
  updatedAt: number
  /** Answers or runs exist: the questions are frozen (copy to change them). */
  hasAnswers: boolean
}

export interface ValueCount {
  value: string
  count: number
}

export interface QuestionStat {
  id: string
  text: string
  type: QuestionType
  answered: number
  droppedHere: number
  counts: ValueCount[]
  texts: string[]
}

export interface SurveyResults {
  surveyId: number
  started: number
  completed: number
  inProgress: number
  rate: number
  respondents: number
  rejected: Record<'forged' | 'replayed' | 'stale', number>
  questions: QuestionStat[]
}

export interface ImportIssue {
  line: number
  column: string
  value: string
  reason: string
}

export interface SurveyImportResult {
  rows: number
  imported: number
  answers: number
  issues: ImportIssue[]
  encoding: string
}

/** A button on the simulated customer's phone (linesim.PhoneAction). */
export interface PhoneButton {
  delivery: number
  index: number
  type: 'postback' | 'datetimepicker' | 'message' | 'uri' | (string & {})
  label: string
  data?: string
  text?: string
  displayText?: string
  mode?: 'date' | 'time' | 'datetime'
  quickReply: boolean
}

function call<T>(method: string, ...args: unknown[]): Promise<T> {
  return (transport().call(method, args) as Promise<T>).catch((err: unknown) => {
    notifySessionError(err)
    throw err
  })
}

export const surveysApi = {
  Surveys: async () => (await call<Survey[] | null>('Surveys')) ?? [],
  GetSurvey: (id: number) => call<Survey>('GetSurvey', id),
  SaveSurvey: (s: Survey) => call<Survey>('SaveSurvey', s),
  CopySurvey: (id: number) => call<Survey>('CopySurvey', id),
  SetSurveyStatus: (id: number, status: Survey['status']) => call<void>('SetSurveyStatus', id, status),
  DeleteSurvey: (id: number) => call<void>('DeleteSurvey', id),
  SendSurvey: (conversationId: number, surveyId: number) => call<void>('SendSurvey', conversationId, surveyId),
  EnterSurveyAnswers: (surveyId: number, customerId: number, answers: Record<string, string>) =>
    call<void>('EnterSurveyAnswers', surveyId, customerId, answers),
  ImportSurveyAnswers: (surveyId: number, path: string, encoding: string) =>
    call<SurveyImportResult>('ImportSurveyAnswers', surveyId, path, encoding),
  SurveyResults: (id: number) => call<SurveyResults>('SurveyResults', id),
  ExportSurveyAnswers: (id: number) => call<{ path: string; rows: number }>('ExportSurveyAnswers', id),
  SurveyStartData: (id: number) => call<string>('SurveyStartData', id),
  SandboxPhoneActions: async (userId: string) => (await call<PhoneButton[] | null>('SandboxPhoneActions', userId)) ?? [],
  SandboxTap: (userId: string, delivery: number, index: number, value: string) =>
    call<void>('SandboxTap', userId, delivery, index, value),
}

/** Error codes of the survey feature, translated under surveys.errors. */
const SURVEY_ERRORS = ['surveyInvalid', 'surveyHasAnswers', 'surveyNotOpen', 'surveyAnswer', 'surveyBlocked'] as const

/** The catalog key of a survey error code, or null for any other error. */
export function surveyErrorKey(err: unknown): string | null {
  const bare = toErrorCode(err).replace(/^errors\./, '')
  return (SURVEY_ERRORS as readonly string[]).includes(bare) ? `surveys.errors.${bare}` : null
}

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
