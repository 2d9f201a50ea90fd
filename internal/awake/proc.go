//go:build !windows

package awake

import (
	"fmt"
	"os/exec"
	"sync"
)

// procBlocker holds the block as long as a helper process runs
// (systemd-inhibit, caffeinate); release ends it.
type procBlocker struct {
	name string
	args func(why string) []string
}

func (p procBlocker) Block(why string) (func() error, error) {
	path, err := exec.LookPath(p.name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.name, ErrUnsupported)
	}
	cmd := exec.Command(path, p.args(why)...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	return func() error {
		var rerr error
		once.Do(func() {
			select {
			case err := <-exited: // it ended on its own (e.g. no logind): nothing held
				rerr = fmt.Errorf("%s ended early: %v", p.name, err)
				return
			default:
			}
			_ = cmd.Process.Kill()
			<-exited
		})
		return rerr
	}, nil
}
