//go:build !windows && !darwin && !linux

package awake

// System is the sleep block of this OS: none known here.
func System() Blocker { return unsupported{} }

type unsupported struct{}

func (unsupported) Block(string) (func() error, error) { return nil, ErrUnsupported }
