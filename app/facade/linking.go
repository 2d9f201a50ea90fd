package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/engine"
	"tsunagu/internal/inbox"
	"tsunagu/internal/linking"
)

// What the inbox and the card show of links (masked for the agency role by
// package linking).
type (
	ConversationLink = linking.ConversationLink
	CustomerLink     = linking.CustomerLink
)

// LinkingSettings are the settings and what the install can do.
type LinkingSettings struct {
	linking.Settings
	CanEmail bool `json:"canEmail"`
	CanSMS   bool `json:"canSms"`
}

// ConversationCustomer returns the conversation's linked customer. Showing
// the card is a view of the customer and audited as one (customer.view).
func (s *LinkingService) ConversationCustomer(conversationID int64) (ConversationLink, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (ConversationLink, error) {
		return eng.Linking().ConversationLink(ctx, st, conversationID)
	})
}

// CustomerLink returns a customer's LINE link and open code.
func (s *LinkingService) CustomerLink(customerID int64) (CustomerLink, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (CustomerLink, error) {
		return eng.Linking().CustomerLink(ctx, st, customerID)
	})
}

// LinkSearchCustomers finds customers to link by number, name, kana or
// phone (at most 20).
func (s *LinkingService) LinkSearchCustomers(query string) ([]customer.Customer, error) {
	return call(s.a, auth.PermCustomersEdit, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]customer.Customer, error) {
		return eng.Linking().SearchCustomers(ctx, query)
	})
}

// LinkCandidates finds customers to link the conversation to, each with
// birth date, the last 4 digits of a phone and whether the LINE name
// differs from the customer's.
func (s *LinkingService) LinkCandidates(conversationID int64, query string) ([]linking.Candidate, error) {
	return call(s.a, auth.PermCustomersEdit, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]linking.Candidate, error) {
		return eng.Linking().Candidates(ctx, conversationID, query)
	})
}

// LinkConversation links the conversation's LINE user to a customer and
// records how the customer consented to LINE messages (written, verbal,
// line; none: not asked), in one audited change.
func (s *LinkingService) LinkConversation(conversationID, customerID int64, consent string) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return s.changed(conversationID, eng.Linking().LinkWithConsent(ctx, st.Actor(), conversationID, customerID, consent))
	})
}

// RelinkConversation moves the conversation's LINE user to another
// customer (reason required).
func (s *LinkingService) RelinkConversation(conversationID, customerID int64, reason string) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return s.changed(conversationID, eng.Linking().Relink(ctx, st.Actor(), conversationID, customerID, reason))
	})
}

// UnlinkCustomer removes a customer's LINE link (reason required).
func (s *LinkingService) UnlinkCustomer(customerID int64, reason string) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		convID, err := eng.Linking().UnlinkCustomer(ctx, st.Actor(), customerID, reason)
		return s.changed(convID, err)
	})
}

// IssueLinkCode issues a one-time link code for a customer: a letter to
// print, or an email or SMS sent now.
func (s *LinkingService) IssueLinkCode(req linking.IssueRequest) (linking.Issued, error) {
	return call(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (linking.Issued, error) {
		return eng.Linking().Issue(ctx, st.Actor(), req)
	})
}

// RevokeLinkCode revokes the customer's open link code.
func (s *LinkingService) RevokeLinkCode(customerID int64) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Linking().RevokeCode(ctx, st.Actor(), customerID)
	})
}

// LinkingSettings returns the linking settings and the deliveries available.
func (s *LinkingService) LinkingSettings() (LinkingSettings, error) {
	return call(s.a, auth.PermInboxRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (LinkingSettings, error) {
		set, err := eng.Linking().Settings(ctx)
		email, sms := eng.Linking().Channels(ctx)
		return LinkingSettings{Settings: set, CanEmail: email, CanSMS: sms}, err
	})
}

// SetLinkingSettings changes the code validity and the identity check
// (audited).
func (s *LinkingService) SetLinkingSettings(set linking.Settings) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Linking().SetSettings(ctx, st.Actor(), set)
	})
}

// changed tells the inbox views that a conversation's link changed, if the
// change was made (err nil) on a conversation.
func (s *LinkingService) changed(conversationID int64, err error) error {
	if err == nil && s.a.emit != nil && conversationID != 0 {
		s.a.emit.Emit(inbox.EventChanged, inbox.ChangedEvent{ConversationID: conversationID})
	}
	return err
}
