package relay

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// fakeDNS answers MX and address queries from maps; a name in neither map
// does not exist, and a name in failing gets a server failure.
type fakeDNS struct {
	mx      map[string][]*net.MX
	addrs   map[string][]net.IPAddr
	failing map[string]bool
}

func (f fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if f.failing[name] {
		return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	if mx, ok := f.mx[name]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f fakeDNS) LookupIPAddr(_ context.Context, name string) ([]net.IPAddr, error) {
	if addrs, ok := f.addrs[name]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func TestResolve(t *testing.T) {
	dns := fakeDNS{
		mx: map[string][]*net.MX{
			"example.net": {
				{Host: "mx3.example.net.", Pref: 30},
				{Host: "mx1.example.net.", Pref: 10},
				{Host: "mx2a.example.net.", Pref: 20},
				{Host: "mx2b.example.net.", Pref: 20},
			},
			"routed.example": {{Host: "mx.routed.example.", Pref: 10}},
			"null.example":   {{Host: ".", Pref: 0}},
		},
		addrs: map[string][]net.IPAddr{
			"implicit.example": {{IP: net.IPv4(192, 0, 2, 1)}},
		},
		failing: map[string]bool{"broken.example": true},
	}
	routes := map[string]string{
		"Routed.Example": "127.0.0.1:2526",
		"noport.example": "127.0.0.1",
	}
	tests := []struct {
		domain    string
		wantHosts []string
		wantCode  int // 0 for success
	}{
		// RFC 5321 §5.1: lowest preference first, ties in resolver order.
		{"example.net", []string{"mx1.example.net:25", "mx2a.example.net:25", "mx2b.example.net:25", "mx3.example.net:25"}, 0},
		{"EXAMPLE.NET.", []string{"mx1.example.net:25", "mx2a.example.net:25", "mx2b.example.net:25", "mx3.example.net:25"}, 0},
		// A static route wins over DNS, matched without regard to case.
		{"routed.example", []string{"127.0.0.1:2526"}, 0},
		{"ROUTED.example", []string{"127.0.0.1:2526"}, 0},
		{"noport.example", []string{"127.0.0.1:25"}, 0},
		// RFC 5321 §5.1: no MX, an address: implicit MX.
		{"implicit.example", []string{"implicit.example:25"}, 0},
		// RFC 7505: null MX.
		{"null.example", nil, 556},
		{"nowhere.example", nil, 550},
		{"broken.example", nil, 451},
		// RFC 5321 §4.1.3: address literals need no DNS.
		{"[192.0.2.7]", []string{"192.0.2.7:25"}, 0},
		{"[IPv6:2001:db8::1]", []string{"[2001:db8::1]:25"}, 0},
		{"[999.0.0.1]", nil, 553},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			dest, err := resolve(context.Background(), tt.domain, routes, dns)
			if tt.wantCode != 0 {
				var reply *smtpreply.Reply
				if !errors.As(err, &reply) || reply.Code != tt.wantCode {
					t.Fatalf("err = %v, want a %d reply", err, tt.wantCode)
				}
				if IsPermanent(err) != (tt.wantCode >= 500) {
					t.Errorf("IsPermanent = %v", IsPermanent(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dest.Hosts, tt.wantHosts) {
				t.Errorf("hosts = %q, want %q", dest.Hosts, tt.wantHosts)
			}
		})
	}
}

func TestResolveNullMXCode(t *testing.T) {
	dns := fakeDNS{mx: map[string][]*net.MX{"null.example": {{Host: ".", Pref: 0}}}}
	_, err := resolve(context.Background(), "null.example", nil, dns)
	var reply *smtpreply.Reply
	// RFC 7505 §4.1 / RFC 7504: 556 5.1.10.
	if !errors.As(err, &reply) || reply.Enhanced != "5.1.10" {
		t.Errorf("err = %v, want 556 5.1.10", err)
	}
}

func TestResolveRouteWithRealResolver(t *testing.T) {
	// The exported entry point with a route never touches DNS.
	dest, err := Resolve(context.Background(), "Example.Net", map[string]string{"example.net": "127.0.0.1:2526"}, nil)
	if err != nil || !slices.Equal(dest.Hosts, []string{"127.0.0.1:2526"}) || dest.Domain != "example.net" {
		t.Errorf("Resolve = %+v, %v", dest, err)
	}
}
