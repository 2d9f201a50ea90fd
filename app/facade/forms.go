package facade

import (
	"context"
	"fmt"
	"io"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/forms"
	"tsunagu/internal/inbox"
)

// Web forms (issue 21). Forms are designed and published with the campaigns
// and routes (PermDrafts); their answers are customers' data
// (PermCustomersRead); the LIFF set-up is a setting (PermSettings).

func formCall[T any](a *Client, p auth.Permission, do func(ctx context.Context, st auth.Staff, svc *forms.Service) (T, error)) (T, error) {
	return featureCall(a, p, (*engine.Engine).Forms, "web forms", do)
}

// Forms lists the web forms, newest first (archived ones too if asked).
func (s *FormsService) Forms(archived bool) ([]forms.Form, error) {
	return formCall(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, svc *forms.Service) ([]forms.Form, error) {
		return svc.List(ctx, archived)
	})
}

// CreateForm adds a draft form; audited.
func (s *FormsService) CreateForm(d forms.Draft) (forms.Form, error) {
	return formCall(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, svc *forms.Service) (forms.Form, error) {
		return svc.Create(ctx, st.Actor(), d)
	})
}

// UpdateForm changes a form (its questions only while it has no answers);
// audited.
func (s *FormsService) UpdateForm(id int64, d forms.Draft) (forms.Form, error) {
	return formCall(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, svc *forms.Service) (forms.Form, error) {
		return svc.Update(ctx, st.Actor(), id, d)
	})
}

// PublishForm puts the form's current version on the relay; audited.
func (s *FormsService) PublishForm(id int64) (forms.Form, error) {
	return formCall(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, svc *forms.Service) (forms.Form, error) {
		return svc.Publish(ctx, st.Actor(), id)
	})
}

// ArchiveForm takes a form off the relay and the list; audited.
func (s *FormsService) ArchiveForm(id int64) error {
	_, err := formCall(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, svc *forms.Service) (struct{}, error) {
		return struct{}{}, svc.Archive(ctx, st.Actor(), id)
	})
	return err
}

// FormAnswers returns a form's answers with who gave them (names and
// identifying answers masked for the agency role, as survey results);
// viewing is audited.
func (s *FormsService) FormAnswers(id int64) ([]forms.Answer, error) {
	return formCall(s.a, auth.PermCustomersRead, func(ctx context.Context, st auth.Staff, svc *forms.Service) ([]forms.Answer, error) {
		out, err := svc.Answers(ctx, st.Actor(), id)
		if err == nil && st.Role.Masked() {
			f, err := svc.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			for i := range out {
				out[i].Mask(f.Questions)
			}
		}
		return out, err
	})
}

// ExportFormAnswers writes a form's answers as CSV to a file the person
// picks (names and identifying answers masked for the agency role, as for
// surveys). Audited.
func (s *FormsService) ExportFormAnswers(id int64) (ExportResult, error) {
	return formCall(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, svc *forms.Service) (ExportResult, error) {
		name := fmt.Sprintf("form-%d-%s.csv", id, time.Now().Format("20060102"))
		return s.a.exportFile(ctx, name, func(w io.Writer) (int, error) {
			return svc.Export(ctx, st.Actor(), id, w, forms.ExportOptions{Masked: st.Role.Masked()})
		})
	})
}

// FormSettings returns the LIFF set-up forms run in.
func (s *FormsService) FormSettings() (forms.Settings, error) {
	return formCall(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, svc *forms.Service) (forms.Settings, error) {
		return svc.Settings(ctx)
	})
}

// SetFormSettings stores the LIFF set-up; audited.
func (s *FormsService) SetFormSettings(st forms.Settings) (forms.Settings, error) {
	return formCall(s.a, auth.PermSettings, func(ctx context.Context, staff auth.Staff, svc *forms.Service) (forms.Settings, error) {
		return svc.SetSettings(ctx, staff.Actor(), st)
	})
}

// FormPrefillPreview shows which customer values a prefilled link of a form
// to a conversation's customer would carry (masked for the agency role).
func (s *FormsService) FormPrefillPreview(conversationID, formID int64) (forms.PrefillPreview, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (forms.PrefillPreview, error) {
		p, err := eng.FormPrefillPreview(ctx, conversationID, formID)
		if err == nil && st.Role.Masked() {
			p.Mask()
		}
		return p, err
	})
}

// SendPrefilledForm sends a form's link carrying the customer's values,
// sealed so that only this customer's LINE can open them; requestKey is the
// screen's (a retry with it sends the same link, once). Audited.
func (s *FormsService) SendPrefilledForm(conversationID, formID int64, requestKey string) (forms.PrefillSent, error) {
	return call(s.a, auth.PermInboxReply, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (forms.PrefillSent, error) {
		sent, user, err := eng.SendPrefilledForm(ctx, st.Actor(), conversationID, formID, requestKey)
		if err == nil {
			s.a.emitPhone(user)
			if s.a.emit != nil {
				s.a.emit.Emit(inbox.EventChanged, inbox.ChangedEvent{ConversationID: conversationID})
			}
		}
		return sent, err
	})
}
