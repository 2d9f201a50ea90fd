import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { messageText, previewText } from '../../src/utils/messages'

const t = createAppI18n('ja').global.t

describe('message display', () => {
  it('shows text as is and labels other kinds', () => {
    expect(messageText({ kind: 'text', body: '[image]' }, t)).toBe('[image]')
    expect(messageText({ kind: 'sticker', body: '11537/52002734' }, t)).toBe('［スタンプ］')
    expect(messageText({ kind: 'file', body: '申込書.pdf' }, t)).toBe('［ファイル］ 申込書.pdf')
    expect(messageText({ kind: 'location', body: '' }, t)).toBe('［位置情報］')
    expect(messageText({ kind: 'hologram', body: 'x' }, t)).toBe('［表示できない種類のメッセージ］')
  })
  it('previews the last message by its kind, never by guessing from its text', () => {
    expect(previewText({ lastKind: 'sticker', lastPreview: '11537/52002734' }, t)).toBe('［スタンプ］')
    expect(previewText({ lastKind: 'follow', lastPreview: '' }, t)).toBe('［友だち追加］')
    expect(previewText({ lastKind: 'file', lastPreview: '申込書.pdf' }, t)).toBe('［ファイル］ 申込書.pdf')
    expect(previewText({ lastKind: 'text', lastPreview: '[image]' }, t)).toBe('[image]')
    expect(previewText({ lastKind: 'text', lastPreview: '住宅ローンについて' }, t)).toBe('住宅ローンについて')
  })
  it('labels postbacks (by what the button said, never their data), video completions, account links and withdrawn messages', () => {
    expect(messageText({ kind: 'postback', body: 'action=reserve', label: '来店予約をする' }, t)).toBe('［ボタン操作］ 来店予約をする')
    expect(messageText({ kind: 'postback', body: 'action=reserve' }, t)).toBe('［ボタン操作］')
    expect(previewText({ lastKind: 'postback', lastPreview: 'action=reserve' }, t)).toBe('［ボタン操作］')
    expect(messageText({ kind: 'videoPlayComplete', body: 'video-1' }, t)).toBe('［動画を最後まで視聴］')
    expect(messageText({ kind: 'accountLink', body: 'ok' }, t)).toBe('［アカウント連携］')
    // An unsent message never shows its text, even if some were left.
    expect(messageText({ kind: 'text', body: '暗証番号', unsent: true }, t)).toBe('［送信取り消しされたメッセージ］')
    expect(previewText({ lastKind: 'unsend', lastPreview: '' }, t)).toBe('［送信取り消しされたメッセージ］')
  })
})
