package facade

import (
	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/inbox"
	"tsunagu/internal/linking"
)

// ConversationLink is what the inbox shows beside a conversation: the
// linked customer's card, or that the LINE user is not linked.
type ConversationLink struct {
	ConversationID int64          `json:"conversationId"`
	DisplayName    string         `json:"displayName"` // the LINE profile name
	Linked         bool           `json:"linked"`
	Link           *linking.Link  `json:"link"`
	Card           *customer.Card `json:"card"` // masked for the agency role
}

// CustomerLink is the link state shown on a customer's card.
type CustomerLink struct {
	CustomerID      int64             `json:"customerId"`
	Link            *linking.Link     `json:"link"`
	LineDisplayName string            `json:"lineDisplayName"`
	FollowState     string            `json:"followState"`
	OpenCode        *linking.CodeInfo `json:"openCode"`
	// Destinations of a code by email and SMS (empty without a notifier).
	Destinations map[string][]string `json:"destinations"`
}

// LinkingSettings are the settings and what the install can do.
type LinkingSettings struct {
	linking.Settings
	CanEmail bool `json:"canEmail"`
	CanSMS   bool `json:"canSms"`
}

// ConversationCustomer returns the conversation's linked customer. Showing
// the card is a view of the customer and audited as one (customer.view).
func (a *App) ConversationCustomer(conversationID int64) (ConversationLink, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return ConversationLink{}, err
	}
	eng, err := a.running()
	if err != nil {
		return ConversationLink{}, err
	}
	svc := eng.Linking()
	user, link, err := svc.ByConversation(a.ctx, conversationID)
	if err != nil {
		return ConversationLink{}, a.userError(err)
	}
	name, err := svc.DisplayName(a.ctx, user)
	if err != nil {
		return ConversationLink{}, a.userError(err)
	}
	out := ConversationLink{ConversationID: conversationID, DisplayName: name, Link: link, Linked: link != nil}
	if st.Role.Masked() {
		out.DisplayName = MaskName(out.DisplayName)
	}
	if link == nil {
		return out, nil
	}
	card, err := eng.Customers().View(a.ctx, st.Actor(), link.CustomerID)
	if err != nil {
		return ConversationLink{}, a.userError(err)
	}
	if st.Role.Masked() {
		maskCard(&card)
		out.Link.LineUserID = MaskName(out.Link.LineUserID)
	}
	out.Card = &card
	return out, nil
}

// CustomerLink returns a customer's LINE link and open code.
func (a *App) CustomerLink(customerID int64) (CustomerLink, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return CustomerLink{}, err
	}
	eng, err := a.running()
	if err != nil {
		return CustomerLink{}, err
	}
	svc := eng.Linking()
	card, err := eng.Customers().Card(a.ctx, customerID)
	if err != nil {
		return CustomerLink{}, a.userError(err)
	}
	out := CustomerLink{CustomerID: customerID, Destinations: map[string][]string{}}
	if out.Link, err = svc.ByCustomer(a.ctx, customerID); err != nil {
		return CustomerLink{}, a.userError(err)
	}
	if card.Line != nil {
		out.LineDisplayName, out.FollowState = card.Line.DisplayName, card.Line.FollowState
	}
	if out.OpenCode, err = svc.OpenCode(a.ctx, customerID); err != nil {
		return CustomerLink{}, a.userError(err)
	}
	if email, sms := svc.Channels(a.ctx); email || sms {
		all := linking.Destinations(card)
		if email {
			out.Destinations[linking.DeliveryEmail] = all[linking.DeliveryEmail]
		}
		if sms {
			out.Destinations[linking.DeliverySMS] = all[linking.DeliverySMS]
		}
	}
	if st.Role.Masked() {
		out.LineDisplayName = MaskName(out.LineDisplayName)
		if out.Link != nil {
			out.Link.LineUserID = MaskName(out.Link.LineUserID)
		}
		out.Destinations = map[string][]string{}
	}
	return out, nil
}

// LinkSearchCustomers finds customers to link by number, name, kana or
// phone (at most 20).
func (a *App) LinkSearchCustomers(query string) ([]customer.Customer, error) {
	if _, err := a.require(auth.PermCustomersEdit); err != nil {
		return nil, err
	}
	svc, err := a.customers()
	if err != nil {
		return nil, err
	}
	if query == "" {
		return []customer.Customer{}, nil
	}
	page, err := svc.List(a.ctx, customer.Filter{Query: query, Limit: 20})
	if err != nil {
		return nil, a.userError(err)
	}
	return page.Customers, nil
}

// LinkConversation links the conversation's LINE user to a customer.
func (a *App) LinkConversation(conversationID, customerID int64) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	eng, err := a.running()
	if err != nil {
		return err
	}
	if err := eng.Linking().LinkConversation(a.ctx, st.Actor(), conversationID, customerID); err != nil {
		return a.userError(err)
	}
	a.linkChanged(conversationID)
	return nil
}

// RelinkConversation moves the conversation's LINE user to another
// customer (reason required).
func (a *App) RelinkConversation(conversationID, customerID int64, reason string) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	eng, err := a.running()
	if err != nil {
		return err
	}
	if err := eng.Linking().Relink(a.ctx, st.Actor(), conversationID, customerID, reason); err != nil {
		return a.userError(err)
	}
	a.linkChanged(conversationID)
	return nil
}

// UnlinkCustomer removes a customer's LINE link (reason required).
func (a *App) UnlinkCustomer(customerID int64, reason string) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	eng, err := a.running()
	if err != nil {
		return err
	}
	svc := eng.Linking()
	link, err := svc.ByCustomer(a.ctx, customerID)
	if err != nil {
		return a.userError(err)
	}
	if err := svc.Unlink(a.ctx, st.Actor(), customerID, reason); err != nil {
		return a.userError(err)
	}
	if link != nil {
		a.linkChanged(link.ConversationID)
	}
	return nil
}

// IssueLinkCode issues a one-time link code for a customer: a letter to
// print, or an email or SMS sent now.
func (a *App) IssueLinkCode(req linking.IssueRequest) (linking.Issued, error) {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return linking.Issued{}, err
	}
	eng, err := a.running()
	if err != nil {
		return linking.Issued{}, err
	}
	out, err := eng.Linking().Issue(a.ctx, st.Actor(), req)
	return out, a.userError(err)
}

// RevokeLinkCode revokes the customer's open link code.
func (a *App) RevokeLinkCode(customerID int64) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	eng, err := a.running()
	if err != nil {
		return err
	}
	return a.userError(eng.Linking().RevokeCode(a.ctx, st.Actor(), customerID))
}

// LinkingSettings returns the linking settings and the deliveries available.
func (a *App) LinkingSettings() (LinkingSettings, error) {
	if _, err := a.require(auth.PermInboxRead); err != nil {
		return LinkingSettings{}, err
	}
	eng, err := a.running()
	if err != nil {
		return LinkingSettings{}, err
	}
	svc := eng.Linking()
	s, err := svc.Settings(a.ctx)
	if err != nil {
		return LinkingSettings{}, a.userError(err)
	}
	email, sms := svc.Channels(a.ctx)
	return LinkingSettings{Settings: s, CanEmail: email, CanSMS: sms}, nil
}

// SetLinkingSettings changes the code validity and the identity check
// (audited).
func (a *App) SetLinkingSettings(s linking.Settings) error {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return err
	}
	eng, err := a.running()
	if err != nil {
		return err
	}
	return a.userError(eng.Linking().SetSettings(a.ctx, st.Actor(), s))
}

// linkChanged tells the inbox views that a conversation's link changed.
func (a *App) linkChanged(conversationID int64) {
	if a.emit != nil && conversationID != 0 {
		a.emit.Emit(inbox.EventChanged, inbox.ChangedEvent{ConversationID: conversationID})
	}
}

// maskCard hides personal values of a card from a masked role.
func maskCard(c *customer.Card) {
	maskCustomer(&c.Customer)
	for i := range c.ContactPoints {
		p := &c.ContactPoints[i]
		if p.Kind == "email" {
			p.Value = MaskEmail(p.Value)
		} else {
			p.Value = MaskPhone(p.Value)
		}
	}
	if c.Line != nil {
		c.Line.DisplayName = MaskName(c.Line.DisplayName)
		c.Line.LineUserID = MaskName(c.Line.LineUserID)
	}
	for i := range c.Attributes {
		c.Attributes[i].Value = MaskName(c.Attributes[i].Value)
	}
}
