package facade

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/survey"
)

// Surveys (issue 11). Reading surveys and their results is reading
// customers (PermCustomersRead; free text masked for the agency role),
// writing them PermDrafts, sending one from a conversation PermInboxReply,
// entering answers PermCustomersEdit, importing them PermImport and
// exporting them PermExport.

// Surveys lists every survey, newest first.
func (s *SurveyService) Surveys() ([]survey.Survey, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]survey.Survey, error) {
		return eng.Survey().List(ctx)
	})
}

// GetSurvey returns one survey with its questions.
func (s *SurveyService) GetSurvey(id int64) (survey.Survey, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (survey.Survey, error) {
		return eng.Survey().Get(ctx, id)
	})
}

// SaveSurvey stores a survey (ID 0: a new draft). Audited.
func (s *SurveyService) SaveSurvey(sv survey.Survey) (survey.Survey, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (survey.Survey, error) {
		return eng.Survey().Save(ctx, st.Actor(), sv)
	})
}

// CopySurvey makes a new draft from a survey (a new version of one with
// answers). Audited.
func (s *SurveyService) CopySurvey(id int64) (survey.Survey, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (survey.Survey, error) {
		return eng.Survey().Copy(ctx, st.Actor(), id)
	})
}

// SetSurveyStatus opens, closes or returns a survey to draft. Audited.
func (s *SurveyService) SetSurveyStatus(id int64, status string) error {
	return run(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Survey().SetStatus(ctx, st.Actor(), id, status)
	})
}

// DeleteSurvey removes a survey without answers. Audited.
func (s *SurveyService) DeleteSurvey(id int64) error {
	return run(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Survey().Delete(ctx, st.Actor(), id)
	})
}

// SendSurvey starts a survey for the customer of a conversation: the
// first question goes out as a push with a stored retry key. Audited.
func (s *SurveyService) SendSurvey(conversationID, surveyID int64) error {
	return run(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		user, err := eng.SendSurvey(ctx, st.Actor(), conversationID, surveyID)
		if err == nil {
			s.a.emitPhone(user)
			// The invitation is now in the thread (inbox.RecordSent).
			if s.a.emit != nil {
				s.a.emit.Emit(inbox.EventChanged, inbox.ChangedEvent{ConversationID: conversationID})
			}
		}
		return err
	})
}

// EnterSurveyAnswers stores answers collected on paper or by phone for a
// customer (by question ID). Audited.
func (s *SurveyService) EnterSurveyAnswers(surveyID, customerID int64, answers map[string]string) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Survey().EnterAnswers(ctx, st.Actor(), surveyID, customerID, answers)
	})
}

// ImportSurveyAnswers imports answers from a CSV file the person picked
// (PickImportFile), with a per-row report. Audited.
func (s *SurveyService) ImportSurveyAnswers(surveyID int64, path, encoding string) (survey.ImportResult, error) {
	return call(s.a, auth.PermImport, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (survey.ImportResult, error) {
		data, _, seat, err := s.a.importSource(path)
		if err != nil {
			return survey.ImportResult{}, err
		}
		var res survey.ImportResult
		if seat { // a seat's file, in memory
			res, err = eng.Survey().ImportAnswers(ctx, st.Actor(), surveyID, bytes.NewReader(data), encoding)
		} else {
			res, err = eng.Survey().ImportAnswersFile(ctx, st.Actor(), surveyID, path, encoding)
		}
		if err == nil {
			s.a.files.drop()
			// The rejected rows are what SaveImportReport writes, as
			// after a customer import (customers.go).
			s.a.imp.keep(res.Issues)
		}
		return res, err
	})
}

// SurveyResults returns a survey's results; free-text answers are masked
// for the agency role. Audited (survey.results).
func (s *SurveyService) SurveyResults(id int64) (survey.Results, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (survey.Results, error) {
		r, err := eng.Survey().Results(ctx, st.Actor(), id)
		if err == nil && st.Role.Masked() {
			r.Mask()
		}
		return r, err
	})
}

// ExportSurveyAnswers writes a survey's answers as CSV to a file the person
// picks (names and free text masked for the agency role). Audited.
func (s *SurveyService) ExportSurveyAnswers(id int64) (ExportResult, error) {
	return call(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (ExportResult, error) {
		name := fmt.Sprintf("survey-%d-%s.csv", id, time.Now().Format("20060102"))
		return s.a.exportFile(ctx, name, func(w io.Writer) (int, error) {
			return eng.Survey().Export(ctx, st.Actor(), id, w, survey.ExportOptions{Masked: st.Role.Masked()})
		})
	})
}

// SurveyStartData issues the postback data of a start button for an open
// survey, for a campaign's Flex card (its "survey" template).
func (s *SurveyService) SurveyStartData(id int64) (string, error) {
	return call(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (string, error) {
		return eng.Survey().StartData(ctx, id)
	})
}
