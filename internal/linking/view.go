package linking

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/mask"
)

// What staff see of links: beside a conversation, and on a customer's card.
// A masked role (auth.Role.Masked: the agency) sees whether and how a
// customer is linked, not who: names, LINE IDs and destinations are hidden.

// ConversationLink is what the inbox shows beside a conversation: the
// linked customer's card, or that the LINE user is not linked.
type ConversationLink struct {
	ConversationID int64          `json:"conversationId"`
	DisplayName    string         `json:"displayName"` // the LINE profile name
	Linked         bool           `json:"linked"`
	Link           *Link          `json:"link"`
	Card           *customer.Card `json:"card"`
}

// CustomerLink is the link state shown on a customer's card.
type CustomerLink struct {
	CustomerID      int64     `json:"customerId"`
	Link            *Link     `json:"link"`
	LineDisplayName string    `json:"lineDisplayName"`
	FollowState     string    `json:"followState"`
	OpenCode        *CodeInfo `json:"openCode"`
	// Destinations of a code by email and SMS (empty without a notifier).
	Destinations map[string][]string `json:"destinations"`
}

// ConversationLink returns the conversation's linked customer as st sees
// it. Showing the card is a view of the customer, audited as one
// (customer.view) under st.
func (s *Service) ConversationLink(ctx context.Context, st auth.Staff, convID int64) (ConversationLink, error) {
	user, link, err := s.ByConversation(ctx, convID)
	if err != nil {
		return ConversationLink{}, err
	}
	name, err := s.DisplayName(ctx, user)
	if err != nil {
		return ConversationLink{}, err
	}
	out := ConversationLink{ConversationID: convID, DisplayName: name, Link: link, Linked: link != nil}
	if st.Role.Masked() {
		out.DisplayName = mask.Name(out.DisplayName)
	}
	if link == nil {
		return out, nil
	}
	card, err := s.customers.As(st).View(ctx, link.CustomerID)
	if err != nil {
		return ConversationLink{}, err
	}
	if st.Role.Masked() {
		out.Link.LineUserID = mask.Name(out.Link.LineUserID)
	}
	out.Card = &card
	return out, nil
}

// CustomerLink returns a customer's LINE link, open code and the
// destinations a code can be sent to, as st sees them.
func (s *Service) CustomerLink(ctx context.Context, st auth.Staff, customerID int64) (CustomerLink, error) {
	card, err := s.customers.Card(ctx, customerID)
	if err != nil {
		return CustomerLink{}, err
	}
	out := CustomerLink{CustomerID: customerID, Destinations: map[string][]string{}}
	if out.Link, err = s.ByCustomer(ctx, customerID); err != nil {
		return CustomerLink{}, err
	}
	if card.Line != nil {
		out.LineDisplayName, out.FollowState = card.Line.DisplayName, card.Line.FollowState
	}
	if out.OpenCode, err = s.OpenCode(ctx, customerID); err != nil {
		return CustomerLink{}, err
	}
	if email, sms := s.Channels(ctx); email || sms {
		all := Destinations(card)
		if email {
			out.Destinations[DeliveryEmail] = all[DeliveryEmail]
		}
		if sms {
			out.Destinations[DeliverySMS] = all[DeliverySMS]
		}
	}
	if st.Role.Masked() {
		out.LineDisplayName = mask.Name(out.LineDisplayName)
		if out.Link != nil {
			out.Link.LineUserID = mask.Name(out.Link.LineUserID)
		}
		out.Destinations = map[string][]string{}
	}
	return out, nil
}

// SearchLimit is the most customers SearchCustomers returns.
const SearchLimit = 20

// SearchCustomers finds customers to link by number, name, kana or phone;
// none for an empty query.
func (s *Service) SearchCustomers(ctx context.Context, query string) ([]customer.Customer, error) {
	if query == "" {
		return []customer.Customer{}, nil
	}
	page, err := s.customers.List(ctx, customer.Filter{Query: query, Limit: SearchLimit})
	if err != nil {
		return nil, err
	}
	return page.Customers, nil
}

// UnlinkCustomer removes a customer's LINE link (Unlink) and returns the
// conversation it was on (0: none), whose views must be told.
func (s *Service) UnlinkCustomer(ctx context.Context, actor string, customerID int64, reason string) (int64, error) {
	link, err := s.ByCustomer(ctx, customerID)
	if err != nil {
		return 0, err
	}
	if err := s.Unlink(ctx, actor, customerID, reason); err != nil {
		return 0, err
	}
	if link == nil {
		return 0, nil
	}
	return link.ConversationID, nil
}
