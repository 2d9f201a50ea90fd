// Japanese: drafts (unsent work kept across lock, sign-out and restart).
// en/drafts.ts must have exactly these keys (its type is this file's).

const ja = {
  drafts: {
    badge: '下書きあり',
    restored: '保存していない下書きを復元しました。',
    discard: '下書きを破棄',
    discardTitle: '下書きを破棄しますか？',
    discardBody: '入力した内容を消して、空の状態に戻します。元に戻すことはできません。',
    discardOk: '破棄する',
    keep: '残す',
    campaignWaiting: '作成途中の新しいキャンペーンがあります',
    campaignResume: '続きを作成',
    surveyWaiting: '作成途中の新しいアンケートがあります',
    surveyResume: '続きを作成',
    richMenuWaiting: '作成途中の新しいリッチメニューがあります',
    richMenuResume: '続きを作成',
  },
}

export default ja
