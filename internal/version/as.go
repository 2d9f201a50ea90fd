package version

// As is i for a program started as version v: main passes the stamped
// Version, a test or the dev server its own; "" keeps i. Numeric follows v
// ("" if v is not a release version).
func (i Info) As(v string) Info {
	if v == "" {
		return i
	}
	i.Version, i.Numeric = v, ""
	if n, err := Parse(v); err == nil {
		i.Numeric = n.String()
	}
	return i
}
