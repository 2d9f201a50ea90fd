package facade

import (
	"errors"
	"fmt"
	"os"
	"time"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/inbox"
	"tsunagu/internal/survey"
)

func (a *App) surveys() (*survey.Service, error) {
	eng, err := a.running()
	if err != nil {
		return nil, err
	}
	return eng.Survey(), nil
}

// Surveys lists every survey, newest first.
func (a *App) Surveys() ([]survey.Survey, error) {
	if _, err := a.require(auth.PermCustomersRead); err != nil {
		return nil, err
	}
	svc, err := a.surveys()
	if err != nil {
		return nil, err
	}
	list, err := svc.List(a.context())
	return list, a.userError(err)
}

// GetSurvey returns one survey with its questions.
func (a *App) GetSurvey(id int64) (survey.Survey, error) {
	if _, err := a.require(auth.PermCustomersRead); err != nil {
		return survey.Survey{}, err
	}
	svc, err := a.surveys()
	if err != nil {
		return survey.Survey{}, err
	}
	sv, err := svc.Get(a.context(), id)
	return sv, a.userError(err)
}

// SaveSurvey stores a survey (ID 0: a new draft). Audited.
func (a *App) SaveSurvey(sv survey.Survey) (survey.Survey, error) {
	st, err := a.require(auth.PermDrafts)
	if err != nil {
		return survey.Survey{}, err
	}
	svc, err := a.surveys()
	if err != nil {
		return survey.Survey{}, err
	}
	out, err := svc.Save(a.context(), st.Actor(), sv)
	if err != nil {
		return survey.Survey{}, a.userError(err)
	}
	return out, nil
}

// CopySurvey makes a new draft from a survey (a new version of one with
// answers). Audited.
func (a *App) CopySurvey(id int64) (survey.Survey, error) {
	st, err := a.require(auth.PermDrafts)
	if err != nil {
		return survey.Survey{}, err
	}
	svc, err := a.surveys()
	if err != nil {
		return survey.Survey{}, err
	}
	out, err := svc.Copy(a.context(), st.Actor(), id)
	if err != nil {
		return survey.Survey{}, a.userError(err)
	}
	return out, nil
}

// SetSurveyStatus opens, closes or returns a survey to draft. Audited.
func (a *App) SetSurveyStatus(id int64, status string) error {
	st, err := a.require(auth.PermDrafts)
	if err != nil {
		return err
	}
	svc, err := a.surveys()
	if err != nil {
		return err
	}
	return a.userError(svc.SetStatus(a.context(), st.Actor(), id, status))
}

// DeleteSurvey removes a survey without answers. Audited.
func (a *App) DeleteSurvey(id int64) error {
	st, err := a.require(auth.PermDrafts)
	if err != nil {
		return err
	}
	svc, err := a.surveys()
	if err != nil {
		return err
	}
	return a.userError(svc.Delete(a.context(), st.Actor(), id))
}

// SendSurvey starts a survey for the customer of a conversation: the
// first question goes out as a push with a stored retry key. Audited.
func (a *App) SendSurvey(conversationID, surveyID int64) error {
	st, _, eng, err := a.requireService(auth.PermInboxReply)
	if err != nil {
		return err
	}
	user, err := eng.Inbox().LineUserID(a.context(), conversationID)
	if errors.Is(err, inbox.ErrNotFound) {
		return msgcode.New(msgcode.NotFound)
	}
	if err != nil {
		return a.userError(err)
	}
	res, err := eng.Survey().SendTo(a.context(), eng.Outbox(), st.Actor(), user, surveyID)
	if err != nil {
		return a.userError(err)
	}
	if res.Failed > 0 {
		return msgcode.New(msgcode.SendFailed)
	}
	a.emitPhone(user)
	return nil
}

// EnterSurveyAnswers stores answers collected on paper or by phone for a
// customer (by question ID). Audited.
func (a *App) EnterSurveyAnswers(surveyID, customerID int64, answers map[string]string) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	svc, err := a.surveys()
	if err != nil {
		return err
	}
	return a.userError(svc.EnterAnswers(a.context(), st.Actor(), surveyID, customerID, answers))
}

// ImportSurveyAnswers imports answers from a CSV file the person picked
// (PickImportFile), with a per-row report. Audited.
func (a *App) ImportSurveyAnswers(surveyID int64, path, encoding string) (survey.ImportResult, error) {
	st, err := a.require(auth.PermImport)
	if err != nil {
		return survey.ImportResult{}, err
	}
	svc, err := a.surveys()
	if err != nil {
		return survey.ImportResult{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return survey.ImportResult{}, a.userError(err)
	}
	defer f.Close()
	res, err := svc.ImportAnswers(a.context(), st.Actor(), surveyID, f, encoding)
	if err == nil {
		// The rejected rows are what SaveImportReport writes, as after a
		// customer import.
		a.imp.mu.Lock()
		a.imp.last = res.Issues
		a.imp.mu.Unlock()
	}
	return res, a.userError(err)
}

// SurveyResults returns a survey's results; free-text answers are masked
// for the agency role. Audited (survey.results).
func (a *App) SurveyResults(id int64) (survey.Results, error) {
	st, err := a.require(auth.PermCustomersRead)
	if err != nil {
		return survey.Results{}, err
	}
	svc, err := a.surveys()
	if err != nil {
		return survey.Results{}, err
	}
	r, err := svc.Results(a.context(), st.Actor(), id)
	if err != nil {
		return survey.Results{}, a.userError(err)
	}
	if st.Role.Masked() {
		for i := range r.Questions {
			for j := range r.Questions[i].Texts {
				r.Questions[i].Texts[j] = MaskBody(r.Questions[i].Texts[j])
			}
		}
	}
	return r, nil
}

// ExportSurveyAnswers writes a survey's answers as CSV to a file the person
// picks (names and free text masked for the agency role). Audited.
func (a *App) ExportSurveyAnswers(id int64) (ExportResult, error) {
	st, err := a.require(auth.PermExport)
	if err != nil {
		return ExportResult{}, err
	}
	svc, err := a.surveys()
	if err != nil {
		return ExportResult{}, err
	}
	if a.opts.FilePicker == nil {
		return ExportResult{}, msgcode.New(msgcode.NoFilePicker)
	}
	path, err := a.opts.FilePicker.SaveFile(a.context(), "CSV", fmt.Sprintf("survey-%d-%s.csv", id, time.Now().Format("20060102")))
	if err != nil || path == "" {
		return ExportResult{}, a.userError(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return ExportResult{}, a.userError(err)
	}
	n, err := svc.Export(a.context(), st.Actor(), id, f, survey.ExportOptions{Masked: st.Role.Masked()})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return ExportResult{}, a.userError(err)
	}
	return ExportResult{Path: path, Rows: n}, nil
}

// SurveyStartData issues the postback data of a start button for an open
// survey, for a campaign's Flex card (its "survey" template).
func (a *App) SurveyStartData(id int64) (string, error) {
	if _, err := a.require(auth.PermDrafts); err != nil {
		return "", err
	}
	svc, err := a.surveys()
	if err != nil {
		return "", err
	}
	d, err := svc.StartData(a.context(), id)
	return d, a.userError(err)
}
