package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tsunagu/internal/line"
	"tsunagu/internal/store"
)

// HandleWebhook stores the events of one verified webhook body in one
// transaction; see HandleWebhooks.
func (ib *Inbox) HandleWebhook(ctx context.Context, req *line.Webhook) error {
	_, err := ib.HandleWebhooks(ctx, []*line.Webhook{req})
	return err
}

// IngestResult counts what one HandleWebhooks call did.
type IngestResult struct {
	Stored      int // fresh events stored
	Duplicates  int // events already stored (LINE or relay redeliveries)
	DeadLetters int // events set aside as dead letters
}

// HandleWebhooks stores the events of several verified webhook bodies, in
// order, in one transaction (group commit: a burst of webhooks costs one
// commit, not one per body). An event already stored (same webhookEventId)
// is skipped, so LINE redeliveries and relay resends are harmless.
//
// Each event runs under its own savepoint. An event the inbox cannot store
// (a field the SDK could not read, a feature's bug, a constraint it breaks)
// is rolled back alone and kept as a dead letter in the same transaction, so
// it never blocks the events behind it. Trouble that is not the event's
// fault (a busy or full disk, a cancelled context) fails the whole call and
// nothing is committed: the caller must not acknowledge, and the bodies come
// again. It returns only after the transaction commits: the caller may then
// acknowledge every body.
func (ib *Inbox) HandleWebhooks(ctx context.Context, reqs []*line.Webhook) (IngestResult, error) {
	var res IngestResult
	acc := &ingestAcc{changed: map[int64]bool{}}
	now := ib.now().UnixMilli()
	err := ib.db.Write(ctx, func(tx *sql.Tx) error {
		res, *acc = IngestResult{}, ingestAcc{changed: map[int64]bool{}}
		c := store.NewTxCache(tx) // the same dozen statements for every event
		for _, req := range reqs {
			if req == nil || req.CallbackRequest == nil {
				// An empty events array is LINE's connection check
				// (the console's "Verify" button): nothing to store.
				continue
			}
			for i, ev := range req.Parsed() {
				if err := ib.ingestGuarded(ctx, tx, c, req, i, ev, now, acc, &res); err != nil {
					return err
				}
			}
			for _, m := range req.Malformed {
				if err := ib.recordDeadLetter(ctx, c, deadLetterOf(req.Destination, m.Raw, m.Reason), now); err != nil {
					return err
				}
				res.DeadLetters++
			}
		}
		return nil
	})
	if err != nil {
		return IngestResult{}, err
	}
	if res.DeadLetters > 0 {
		ib.log.Warn("webhook events kept as dead letters", "count", res.DeadLetters)
		ib.emitDeadLetters()
	}
	ib.afterIngest(ctx, acc)
	return res, nil
}

// ingestAcc gathers, across one transaction, what is done after it commits.
type ingestAcc struct {
	changed map[int64]bool
	replies int // hook replies queued for the background sender
}

// ingestGuarded stores event i of req under a savepoint. A failure that is
// the event's own (see store.IsTransient), including a panic in a feature,
// rolls the event back and keeps it as a dead letter; any other failure is
// returned and fails the whole transaction.
func (ib *Inbox) ingestGuarded(ctx context.Context, tx *sql.Tx, c *store.TxCache, req *line.Webhook, i int, ev line.Event, now int64, acc *ingestAcc, res *IngestResult) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT inbox_event`); err != nil {
		return fmt.Errorf("webhook event %d: %w", i, err)
	}
	// What the event adds to acc is dropped with its savepoint.
	replies := acc.replies
	var changedNow []int64
	fresh, err := func() (fresh bool, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w: panic: %v", errPoison, r)
			}
		}()
		return ib.ingestEvent(ctx, tx, c, req, i, ev, now, acc, &changedNow)
	}()
	if err == nil {
		if _, err := tx.ExecContext(ctx, `RELEASE inbox_event`); err != nil {
			return fmt.Errorf("webhook event %d: %w", i, err)
		}
		for _, id := range changedNow {
			acc.changed[id] = true
		}
		if fresh {
			res.Stored++
		} else {
			res.Duplicates++
		}
		return nil
	}
	if store.IsTransient(err) && !errors.Is(err, errPoison) || ctx.Err() != nil {
		return err
	}
	acc.replies = replies
	if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO inbox_event`); rerr != nil {
		return fmt.Errorf("webhook event %d: %w", i, rerr)
	}
	if _, rerr := tx.ExecContext(ctx, `RELEASE inbox_event`); rerr != nil {
		return fmt.Errorf("webhook event %d: %w", i, rerr)
	}
	var raw []byte
	if i < len(req.RawEvents) {
		raw = req.RawEvents[i]
	}
	// Only the event's type reaches the log: the error may quote what the
	// customer wrote.
	ib.log.Error("webhook event kept as a dead letter", "type", unknownType(ev.Type))
	if err := ib.recordDeadLetter(ctx, c, deadLetterOf(req.Destination, raw, err.Error()), now); err != nil {
		return err
	}
	res.DeadLetters++
	return nil
}

// errPoison marks a failure that is the event's own even if it looks like
// the database's (a feature that panicked).
var errPoison = errors.New("event could not be stored")

// ingestEvent stores event i of req; false means it was stored before.
func (ib *Inbox) ingestEvent(ctx context.Context, tx *sql.Tx, c *store.TxCache, req *line.Webhook, i int, ev line.Event, now int64, acc *ingestAcc, changed *[]int64) (bool, error) {
	in, ok := parseEvent(ev)
	if !ok {
		// Without a webhookEventId an event cannot be stored once and
		// only once: it is set aside rather than guessed at.
		return false, fmt.Errorf("%w: no webhookEventId", errPoison)
	}
	// In standby mode another channel answers the chat: marking it read
	// is that channel's business, like the reply token.
	if in.eventType == "message" && !in.standby {
		in.readToken = req.MarkAsReadTokens[in.eventID]
	}
	fresh, err := recordEvent(ctx, c, in, now)
	if err != nil {
		return false, fmt.Errorf("webhook event %d (%s): %w", i, in.eventType, err)
	}
	if !fresh {
		return false, nil
	}
	if in.userID == "" || !handled[in.eventType] {
		// Group and room events, and types the 1:1 inbox does not use
		// or LINE added later: recorded, not shown. The type is all
		// that is logged.
		ib.log.Info("webhook event not shown in the inbox", "type", in.eventType, "group", in.userID == "")
		return true, nil
	}
	stale, err := ensureUser(ctx, c, in.userID, now, now-ib.profileTTL.Milliseconds())
	if err != nil {
		return false, fmt.Errorf("webhook event %d: %w", i, err)
	}
	convID, msgID, err := ib.applyEvent(ctx, c, in, now)
	if err != nil {
		return false, fmt.Errorf("webhook event %d (%s): %w", i, in.eventType, err)
	}
	if convID != 0 {
		*changed = append(*changed, convID)
		out, err := ib.runHooks(ctx, tx, c, in, convID, msgID, now)
		if err != nil {
			return false, fmt.Errorf("webhook event %d (%s): %w", i, in.eventType, err)
		}
		acc.replies += len(out)
	}
	// What must come from LINE (the profile, the photo) is recorded as
	// jobs in this transaction; nothing here waits for LINE.
	if err := ib.recordFetches(ctx, c, in, stale, msgID, now); err != nil {
		return false, fmt.Errorf("webhook event %d (%s): %w", i, in.eventType, err)
	}
	return true, nil
}

// afterIngest runs once the webhook transaction has committed. Nothing here
// waits for LINE: the hook replies are queued and the fetch jobs recorded,
// both committed; the background workers (Run) are woken and the caller may
// acknowledge at once.
func (ib *Inbox) afterIngest(_ context.Context, acc *ingestAcc) {
	ib.fetchSig.fire()
	if acc.replies > 0 {
		ib.sendSig.fire()
	}
	for id := range acc.changed {
		ib.notify(id)
	}
}
