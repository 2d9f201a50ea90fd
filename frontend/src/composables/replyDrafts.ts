import { watch } from 'vue'
import { inbox } from './inbox'
import { useDrafts } from '../stores/drafts'

/**
 * Keeps the reply drafts (inbox.drafts, one per conversation) in the DB
 * (issue 19): loads the signed-in person's on start, then saves each
 * conversation's while the person types; an emptied one (sent) is deleted.
 * Returns the stop function. The list shows a draft's existence
 * (ConversationList: 下書きあり).
 */
export function keepReplyDrafts(): () => void {
  const drafts = useDrafts()
  let stopped = false
  let prev: Record<number, string> = { ...inbox.drafts }
  const stop = watch(
    () => ({ ...inbox.drafts }),
    (now) => {
      for (const [id, text] of Object.entries(now)) {
        if (prev[Number(id)] === text) continue
        drafts.schedule('reply', id, text.trim() === '' ? '' : JSON.stringify(text))
      }
      // A key that disappeared was dropped from memory (a lock), not sent:
      // its draft stays in the DB.
      prev = now
    },
  )
  void drafts
    .list('reply')
    .then((saved) => {
      if (stopped) return
      for (const [id, body] of Object.entries(saved)) {
        const n = Number(id)
        // Typed meanwhile: what is on screen wins.
        if (inbox.drafts[n]) continue
        try {
          const text = JSON.parse(body)
          if (typeof text === 'string') inbox.drafts[n] = text
        } catch {
          /* not a reply draft's shape: ignore it */
        }
      }
    })
    .catch(() => {
      /* without the list, typing still saves; nothing is lost */
    })
  return () => {
    stopped = true
    stop()
  }
}
