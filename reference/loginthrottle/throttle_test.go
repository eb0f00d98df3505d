package loginthrottle

import (
	"net"
	"testing"
	"time"
)

// clock is a test clock that moves only when told.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func tcp(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000} }

func TestDelayGrowsPerClient(t *testing.T) {
	clk := &clock{now: time.Unix(1e9, 0)}
	th := New(Options{Base: time.Second, Max: 8 * time.Second, Grace: -1, Now: clk.Now})
	a, b := tcp("192.0.2.1"), tcp("192.0.2.2")
	want := []time.Duration{1, 2, 4, 8, 8, 8}
	for i, w := range want {
		if got := th.Failure(a); got != w*time.Second {
			t.Errorf("failure %d of client A: delay %v, want %v", i+1, got, w*time.Second)
		}
	}
	// Client B is not slowed down by A's failures.
	if got := th.Failure(b); got != time.Second {
		t.Errorf("first failure of client B after A's six: delay %v, want 1s", got)
	}
	// Another port of A's address is the same client.
	if got := th.Failure(&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}); got != 8*time.Second {
		t.Errorf("A from another port: delay %v, want 8s", got)
	}
	if n := th.Failures(a); n != 7 {
		t.Errorf("Failures(A) = %d, want 7", n)
	}
}

func TestGraceBeforeDoubling(t *testing.T) {
	th := New(Options{Base: time.Second})
	a := tcp("192.0.2.1")
	want := []time.Duration{1, 1, 1, 2, 4, 8, 16, 32, 32}
	for i, w := range want {
		if got := th.Failure(a); got != w*time.Second {
			t.Errorf("failure %d with the default grace of %d: delay %v, want %v", i+1, DefaultGrace, got, w*time.Second)
		}
	}
}

func TestFailuresAreForgotten(t *testing.T) {
	clk := &clock{now: time.Unix(1e9, 0)}
	th := New(Options{Base: time.Second, Forget: time.Minute, Grace: -1, Now: clk.Now})
	a := tcp("192.0.2.1")
	th.Failure(a)
	th.Failure(a)
	clk.now = clk.now.Add(59 * time.Second)
	if got := th.Failure(a); got != 4*time.Second {
		t.Errorf("third failure within Forget: %v, want 4s", got)
	}
	clk.now = clk.now.Add(time.Minute)
	if n := th.Failures(a); n != 0 {
		t.Errorf("Failures after Forget = %d, want 0", n)
	}
	if got := th.Failure(a); got != time.Second {
		t.Errorf("failure after Forget: %v, want the base 1s", got)
	}
}

func TestIPv6ClientIsItsSlash64(t *testing.T) {
	th := New(Options{Base: time.Second, Grace: -1})
	th.Failure(tcp("2001:db8:1:2::1"))
	if got := th.Failure(tcp("2001:db8:1:2:ffff::9")); got != 2*time.Second {
		t.Errorf("second failure from the same /64: %v, want 2s", got)
	}
	if got := th.Failure(tcp("2001:db8:1:3::1")); got != time.Second {
		t.Errorf("failure from another /64: %v, want 1s", got)
	}
	// An IPv4-mapped address is the IPv4 client.
	th.Failure(tcp("192.0.2.7"))
	if got := th.Failure(tcp("::ffff:192.0.2.7")); got != 2*time.Second {
		t.Errorf("IPv4-mapped address: %v, want 2s (same client as 192.0.2.7)", got)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	clk := &clock{now: time.Unix(1e9, 0)}
	th := New(Options{Base: time.Second, MaxClients: 100, Now: clk.Now})
	for i := 0; i < 1000; i++ {
		clk.now = clk.now.Add(time.Millisecond)
		th.Failure(tcp(net.IPv4(10, 0, byte(i>>8), byte(i)).String()))
		if n := th.Clients(); n > 100 {
			t.Fatalf("%d clients remembered after %d failures, limit 100", n, i+1)
		}
	}
	// The most recent client is kept, the oldest ones dropped.
	if th.Failures(tcp("10.0.3.231")) != 1 { // i = 999
		t.Error("the latest client was evicted")
	}
	if th.Failures(tcp("10.0.0.0")) != 0 {
		t.Error("the oldest client was kept past the limit")
	}
}

func TestNegativeBaseDisablesDelay(t *testing.T) {
	th := New(Options{Base: -1})
	for i := 0; i < 3; i++ {
		if d := th.Failure(tcp("192.0.2.1")); d != 0 {
			t.Fatalf("delay %v with a negative base", d)
		}
	}
	if n := th.Failures(tcp("192.0.2.1")); n != 3 {
		t.Errorf("Failures = %d, want 3 (counted even without a delay)", n)
	}
}
