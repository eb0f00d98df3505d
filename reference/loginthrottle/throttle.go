// Package loginthrottle slows down password guessing: past a few
// failures, each failed login from a client makes that client's next
// failure wait longer, while other clients keep the base delay. The reference server shares one Throttle
// between SMTP AUTH, POP3 PASS and IMAP LOGIN, so a client cannot escape
// its delay by switching protocol or opening more connections.
//
// Clients are told apart by address: an IPv4 address, or the /64 an IPv6
// address is in (a single host usually gets a whole /64, so counting
// single IPv6 addresses would let it rotate through them). What the
// Throttle remembers is bounded: at most MaxClients addresses, each
// forgotten Forget after its last failure.
package loginthrottle

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultBase       = time.Second
	DefaultGrace      = 3
	DefaultForget     = 15 * time.Minute
	DefaultMaxClients = 10_000
	// maxDoublings caps the exponent before Max caps the delay, so the
	// arithmetic cannot overflow however many failures a client piles up.
	maxDoublings = 30
)

// Options configure a Throttle. The zero value of every field is usable.
type Options struct {
	// Base is the delay of each of a client's first Grace failures within
	// Forget; each further one doubles it. Default DefaultBase; negative
	// disables the delay (failures are still counted).
	Base time.Duration
	// Grace is how many failures get Base before the doubling starts, so a
	// user who mistypes a password once or twice is not made to wait
	// longer. Default DefaultGrace; negative means none.
	Grace int
	// Max caps the delay. Default 32 × Base.
	Max time.Duration
	// Forget is how long after its last failure a client starts again from
	// Base. Default DefaultForget.
	Forget time.Duration
	// MaxClients bounds the clients remembered. When it is reached, the
	// clients whose failures are forgotten are dropped, then, if that is
	// not enough, the one whose last failure is the oldest. Default
	// DefaultMaxClients.
	MaxClients int
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// Throttle counts failed logins per client. It is safe for concurrent use.
type Throttle struct {
	opts Options

	mu      sync.Mutex
	clients map[netip.Prefix]record
}

type record struct {
	failures int
	last     time.Time
}

// New returns a Throttle.
func New(opts Options) *Throttle {
	if opts.Base == 0 {
		opts.Base = DefaultBase
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	opts.Grace = max(opts.Grace, 1)
	if opts.Max <= 0 {
		opts.Max = 32 * opts.Base
	}
	if opts.Forget <= 0 {
		opts.Forget = DefaultForget
	}
	if opts.MaxClients <= 0 {
		opts.MaxClients = DefaultMaxClients
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Throttle{opts: opts, clients: make(map[netip.Prefix]record)}
}

// Failure records a failed login from addr and returns how long to wait
// before answering it: Base for each of the client's first Grace failures
// within Forget, then doubling with each further one, at most Max; zero
// when Base is negative.
func (t *Throttle) Failure(addr net.Addr) time.Duration {
	key := clientKey(addr)
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r, known := t.clients[key]
	if known && now.Sub(r.last) >= t.opts.Forget {
		r = record{}
	}
	if !known && len(t.clients) >= t.opts.MaxClients {
		t.evict(now)
	}
	r.failures++
	r.last = now
	t.clients[key] = r
	return t.delay(r.failures)
}

// Failures returns the failures counted for addr's client and not yet
// forgotten.
func (t *Throttle) Failures(addr net.Addr) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.clients[clientKey(addr)]
	if !ok || t.opts.Now().Sub(r.last) >= t.opts.Forget {
		return 0
	}
	return r.failures
}

// Clients returns how many clients the Throttle remembers.
func (t *Throttle) Clients() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients)
}

// delay is the wait for a client's n-th failure.
func (t *Throttle) delay(n int) time.Duration {
	if t.opts.Base < 0 {
		return 0
	}
	d := t.opts.Base << min(max(n-t.opts.Grace, 0), maxDoublings)
	if d <= 0 || d > t.opts.Max {
		return t.opts.Max
	}
	return d
}

// evict makes room for one more client; t.mu must be held.
func (t *Throttle) evict(now time.Time) {
	var oldest netip.Prefix
	var oldestAt time.Time
	for k, r := range t.clients {
		if now.Sub(r.last) >= t.opts.Forget {
			delete(t.clients, k)
			continue
		}
		if oldestAt.IsZero() || r.last.Before(oldestAt) {
			oldest, oldestAt = k, r.last
		}
	}
	if len(t.clients) >= t.opts.MaxClients {
		delete(t.clients, oldest)
	}
}

// clientKey is the client addr stands for: its IPv4 address, or the /64 of
// its IPv6 address. Addresses that are not IP (a Unix socket, a test pipe)
// all count as one client.
func clientKey(addr net.Addr) netip.Prefix {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	default:
		if addr != nil {
			if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
				ip = ap.Addr()
			}
		}
	}
	ip = ip.Unmap()
	switch {
	case ip.Is4():
		return netip.PrefixFrom(ip, 32)
	case ip.Is6():
		p, _ := ip.WithZone("").Prefix(64)
		return p
	}
	return netip.Prefix{}
}
