package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
	"tsunagu/internal/engine"
)

// Custom attribute definitions and tags (administered with permission
// settings) and the edits staff make on a customer's card (consents, tags,
// attribute values; permission customers.edit). Every change is audited by
// package customer in the transaction that makes it.

// AttributeDefs lists the custom attribute definitions (for the card's
// editor and the administration tab).
func (s *CustomerService) AttributeDefs() ([]customer.AttributeDefInfo, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]customer.AttributeDefInfo, error) {
		return eng.Customers().AttributeDefs(ctx)
	})
}

// DefineAttribute creates a custom attribute definition.
func (s *CustomerService) DefineAttribute(d customer.AttributeDef) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().DefineAttribute(ctx, st.Actor(), d)
	})
}

// DeleteAttribute removes a definition and every customer's value of it.
func (s *CustomerService) DeleteAttribute(key string) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().DeleteAttribute(ctx, st.Actor(), key)
	})
}

// TagList lists the tags with how many customers carry each.
func (s *CustomerService) TagList() ([]customer.TagInfo, error) {
	return call(s.a, auth.PermCustomersRead, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) ([]customer.TagInfo, error) {
		return eng.Customers().TagList(ctx)
	})
}

// CreateTag adds a tag to the list staff pick from.
func (s *CustomerService) CreateTag(name string) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().CreateTag(ctx, st.Actor(), name)
	})
}

// DeleteTag removes a tag from every customer and the list.
func (s *CustomerService) DeleteTag(name string) error {
	return run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().DeleteTag(ctx, st.Actor(), name)
	})
}

// The card's edits send the version the card was loaded at
// (customer.Customer.Version) and are refused with errors.customerStale if
// the customer changed since (seats: two people on one customer).

// SetCustomerConsent records a customer's consent for a channel as given to
// the signed-in staff member (source staff:<login>, now).
func (s *CustomerService) SetCustomerConsent(customerID, version int64, channel string, granted bool) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().From(version).SetConsent(ctx, st.Actor(), customerID, channel, granted, st.Actor())
	})
}

// AddCustomerTag tags a customer (creating the tag if needed).
func (s *CustomerService) AddCustomerTag(customerID, version int64, tag string) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().From(version).AddTag(ctx, st.Actor(), customerID, tag)
	})
}

// RemoveCustomerTag removes a tag from a customer.
func (s *CustomerService) RemoveCustomerTag(customerID, version int64, tag string) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().From(version).RemoveTag(ctx, st.Actor(), customerID, tag)
	})
}

// SetCustomerAttribute sets a custom attribute, checked against its type.
func (s *CustomerService) SetCustomerAttribute(customerID, version int64, key, value string) error {
	return run(s.a, auth.PermCustomersEdit, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Customers().From(version).SetAttribute(ctx, st.Actor(), customerID, key, value)
	})
}
