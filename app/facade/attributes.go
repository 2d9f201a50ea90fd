package facade

import (
	"tsunagu/internal/auth"
	"tsunagu/internal/customer"
)

// Custom attribute definitions and tags (administered with permission
// settings) and the edits staff make on a customer's card (consents, tags,
// attribute values; permission customers.edit). Every change is audited by
// package customer in the transaction that makes it.

// AttributeDefs lists the custom attribute definitions (for the card's
// editor and the administration tab).
func (a *App) AttributeDefs() ([]customer.AttributeDefInfo, error) {
	if _, err := a.require(auth.PermCustomersRead); err != nil {
		return nil, err
	}
	svc, err := a.customers()
	if err != nil {
		return nil, err
	}
	list, err := svc.AttributeDefs(a.ctx)
	return list, a.userError(err)
}

// DefineAttribute creates a custom attribute definition.
func (a *App) DefineAttribute(d customer.AttributeDef) error {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.DefineAttribute(a.ctx, st.Actor(), d))
}

// DeleteAttribute removes a definition and every customer's value of it.
func (a *App) DeleteAttribute(key string) error {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.DeleteAttribute(a.ctx, st.Actor(), key))
}

// TagList lists the tags with how many customers carry each.
func (a *App) TagList() ([]customer.TagInfo, error) {
	if _, err := a.require(auth.PermCustomersRead); err != nil {
		return nil, err
	}
	svc, err := a.customers()
	if err != nil {
		return nil, err
	}
	list, err := svc.TagList(a.ctx)
	return list, a.userError(err)
}

// CreateTag adds a tag to the list staff pick from.
func (a *App) CreateTag(name string) error {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.CreateTag(a.ctx, st.Actor(), name))
}

// DeleteTag removes a tag from every customer and the list.
func (a *App) DeleteTag(name string) error {
	st, err := a.require(auth.PermSettings)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.DeleteTag(a.ctx, st.Actor(), name))
}

// SetCustomerConsent records a customer's consent for a channel as given to
// the signed-in staff member (source staff:<login>, now).
func (a *App) SetCustomerConsent(customerID int64, channel string, granted bool) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.SetConsent(a.ctx, st.Actor(), customerID, channel, granted, "staff:"+st.Login))
}

// AddCustomerTag tags a customer (creating the tag if needed).
func (a *App) AddCustomerTag(customerID int64, tag string) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.AddTag(a.ctx, st.Actor(), customerID, tag))
}

// RemoveCustomerTag removes a tag from a customer.
func (a *App) RemoveCustomerTag(customerID int64, tag string) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.RemoveTag(a.ctx, st.Actor(), customerID, tag))
}

// SetCustomerAttribute sets a custom attribute, checked against its type.
func (a *App) SetCustomerAttribute(customerID int64, key, value string) error {
	st, err := a.require(auth.PermCustomersEdit)
	if err != nil {
		return err
	}
	svc, err := a.customers()
	if err != nil {
		return err
	}
	return a.userError(svc.SetAttribute(a.ctx, st.Actor(), customerID, key, value))
}
