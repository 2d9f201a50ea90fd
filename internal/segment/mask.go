package segment

import "tsunagu/internal/mask"

// Mask hides the customers' names, emails and mobile numbers in place, for
// a role that sees data masked (auth.Role.Masked): the counts, branches and
// states stay.
func (p *Preview) Mask() {
	for i := range p.Rows {
		r := &p.Rows[i]
		r.Name, r.Email, r.Mobile = mask.Name(r.Name), mask.Email(r.Email), mask.Phone(r.Mobile)
		// A customer's holdings are not for a masked role, even unnamed.
		r.Matches = []Match{}
	}
}
