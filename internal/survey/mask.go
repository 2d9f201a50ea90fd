package survey

import "tsunagu/internal/mask"

// Mask hides the free-text answers in place, for a role that sees data
// masked (auth.Role.Masked): counts, choices and rates stay.
func (r *Results) Mask() {
	for i := range r.Questions {
		for j, v := range r.Questions[i].Texts {
			r.Questions[i].Texts[j] = mask.Body(v)
		}
	}
}
