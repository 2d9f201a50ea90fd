//go:build !windows

package firewall

import "context"

// Allow adds the rule; off Windows there is none to add.
func Allow(context.Context, string, int) error { return ErrNotNeeded }

// Exists reports whether the rule of port exists; off Windows ErrNotNeeded.
func Exists(context.Context, int) (bool, error) { return false, ErrNotNeeded }
