package customer

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/mask"
)

// What a masked role (auth.Role.Masked: the agency) sees of customers: that
// they exist, their number, branch, status and shape, never who they are or
// how to reach them.

// Masked returns c with its personal values hidden.
func (c Customer) Masked() Customer {
	c.Name = mask.Name(c.Name)
	c.NameKana = mask.Name(c.NameKana)
	c.BirthDate = ""
	c.Address = mask.Name(c.Address)
	c.Phone = mask.Phone(c.Phone)
	c.PhoneDisplay = c.Phone
	c.Email = mask.Email(c.Email)
	return c
}

// Masked returns the card with its personal values hidden: the customer,
// every contact point, the account numbers of its products, the LINE user
// and the custom attribute values.
func (c Card) Masked() Card {
	c.Customer = c.Customer.Masked()
	points := make([]ContactPoint, len(c.ContactPoints))
	for i, p := range c.ContactPoints {
		if p.Kind == "email" {
			p.Value = mask.Email(p.Value)
		} else {
			p.Value = mask.Phone(p.Value)
		}
		p.Display = p.Value
		points[i] = p
	}
	c.ContactPoints = points
	products := make([]Product, len(c.Products))
	for i, p := range c.Products {
		p.AccountNo = mask.Account(p.AccountNo)
		products[i] = p
	}
	c.Products = products
	if c.Line != nil {
		l := *c.Line
		l.DisplayName = mask.Name(l.DisplayName)
		l.LineUserID = mask.Name(l.LineUserID)
		c.Line = &l
	}
	attrs := make([]Attribute, len(c.Attributes))
	for i, a := range c.Attributes {
		a.Value = mask.Name(a.Value)
		attrs[i] = a
	}
	c.Attributes = attrs
	return c
}

// Viewer is the customer service as one staff member sees it (Service.As):
// the window, the CLI and a remote seat get the same masking for the same
// role.
type Viewer struct {
	s  *Service
	st auth.Staff
}

// As returns the service as st sees it.
func (s *Service) As(st auth.Staff) Viewer { return Viewer{s: s, st: st} }

// List lists customers matching f, masked for a masked role.
func (v Viewer) List(ctx context.Context, f Filter) (Page, error) {
	page, err := v.s.List(ctx, f)
	if err != nil {
		return Page{}, err
	}
	if v.st.Role.Masked() {
		for i := range page.Customers {
			page.Customers[i] = page.Customers[i].Masked()
		}
	}
	return page, nil
}

// View returns a customer's card, audited as viewed by the staff member
// (View: no card without its entry), masked for a masked role.
func (v Viewer) View(ctx context.Context, id int64) (Card, error) {
	card, err := v.s.View(ctx, v.st.Actor(), id)
	if err != nil {
		return Card{}, err
	}
	if v.st.Role.Masked() {
		card = card.Masked()
	}
	return card, nil
}
