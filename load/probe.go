package load

import (
	"context"
	"fmt"
	"net"
)

// Probe connects to o's target once and hangs up, so that a run against
// an address where nothing listens fails at once rather than every
// session retrying until the end. The connection waits o.Timeout (or its
// default) at most.
func Probe(ctx context.Context, o Options) error {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", o.Target.Addr)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", o.Target, err)
	}
	c.Close()
	return nil
}
