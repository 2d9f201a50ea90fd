package campaign

import "tsunagu/internal/mask"

// Mask hides the recipients' names and addresses in place, for a role that
// sees data masked (auth.Role.Masked): an email keeps its top-level domain,
// a phone its last two digits, a LINE user ID nothing.
func (p *DeliveryPage) Mask() {
	for i := range p.Rows {
		d := &p.Rows[i]
		d.Name = mask.Name(d.Name)
		switch d.Channel {
		case ChannelEmail:
			d.Address = mask.Email(d.Address)
		case ChannelSMS:
			d.Address = mask.Phone(d.Address)
		default:
			d.Address = mask.Name(d.Address)
		}
	}
}
