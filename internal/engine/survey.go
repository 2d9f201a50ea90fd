package engine

import (
	"tsunagu/internal/inbox"
	"tsunagu/internal/survey"
)

// Survey is the survey service. It keeps everything in the DB, so a fresh
// value per call is as good as a kept one. Staff sends go through Outbox.
func (e *Engine) Survey() *survey.Service {
	svc, _ := survey.New(survey.Config{DB: e.db, Clock: e.clock}) // fails only without a DB
	return svc
}

// surveyHook runs surveys in the chat; it comes after linking (a link code
// is never a survey answer) and before the auto-replies (an answer gets no
// keyword reply).
func (e *Engine) surveyHook() inbox.Hook { return e.Survey().Hook() }
