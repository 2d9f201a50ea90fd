package engine

import (
	"context"
	"fmt"

	"tsunagu/internal/survey"
)

// SendSurvey starts survey surveyID for the customer of a conversation
// (staff's request from the inbox): the first question goes out as a push
// with a stored retry key, audited. It returns the customer's LINE user ID
// (the sandbox phone to refresh).
func (e *Engine) SendSurvey(ctx context.Context, actor string, conversationID, surveyID int64) (string, error) {
	if e.inbox == nil {
		return "", survey.ErrNoSender
	}
	user, err := e.inbox.LineUserID(ctx, conversationID)
	if err != nil {
		return "", fmt.Errorf("survey %d to conversation %d: %w", surveyID, conversationID, err)
	}
	res, err := e.Survey().SendTo(ctx, e.outbox, actor, user, surveyID)
	if err != nil {
		return "", err
	}
	if res.Failed > 0 {
		return "", fmt.Errorf("survey %d to conversation %d: %w", surveyID, conversationID, survey.ErrNotSent)
	}
	return user, nil
}
