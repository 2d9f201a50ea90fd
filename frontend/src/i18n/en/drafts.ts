// English: drafts (unsent work kept across lock, sign-out and restart).
import type ja from '../ja/drafts'

const en: typeof ja = {
  drafts: {
    badge: 'Draft',
    restored: 'Your unsaved draft was restored.',
    discard: 'Discard draft',
    discardTitle: 'Discard the draft?',
    discardBody: 'What you typed is cleared and the form starts empty again. This cannot be undone.',
    discardOk: 'Discard',
    keep: 'Keep',
    campaignWaiting: 'A new campaign is in progress',
    campaignResume: 'Continue',
    surveyWaiting: 'A new survey is in progress',
    surveyResume: 'Continue',
    richMenuWaiting: 'A new rich menu is in progress',
    richMenuResume: 'Continue',
  },
}

export default en
