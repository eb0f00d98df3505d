package relay

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// SMTPPort is the port MX hosts listen on (RFC 5321 §4.5.4.1 and the IANA
// registry for "smtp").
const SMTPPort = "25"

// Destination is where mail for one domain goes: the hosts to try, best
// first.
type Destination struct {
	// Domain is the recipient domain, lower-cased.
	Domain string
	// Hosts are "host:port" pairs in preference order; Dial tries them in
	// this order.
	Hosts []string
}

// dnsLookup is the part of *net.Resolver that Resolve uses, so tests can
// answer MX and address queries without a DNS server.
type dnsLookup interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Resolve finds the hosts that accept mail for domain.
//
// A static route (routes["example.net"] = "127.0.0.1:2526", matched without
// regard to case) wins over DNS. Otherwise the MX records are used in
// preference order (RFC 5321 §5.1), and a domain without MX records but
// with an address gets an implicit MX pointing at itself. An address
// literal ("[192.0.2.1]", RFC 5321 §4.1.3) is used as is.
//
// Every failure is a *smtpreply.Reply: 5xx when the domain cannot receive
// mail at all (it does not exist, or has a null MX, RFC 7505), 4xx when DNS
// failed in a way that may pass. A nil resolver means net.DefaultResolver.
func Resolve(ctx context.Context, domain string, routes map[string]string, resolver *net.Resolver) (Destination, error) {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	return resolve(ctx, domain, routes, resolver)
}

func resolve(ctx context.Context, domain string, routes map[string]string, lookup dnsLookup) (Destination, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	dest := Destination{Domain: domain}
	if route, ok := lookupRoute(routes, domain); ok {
		dest.Hosts = []string{withDefaultPort(route)}
		return dest, nil
	}
	if strings.HasPrefix(domain, "[") {
		addr, err := parseAddressLiteral(domain)
		if err != nil {
			return dest, smtpreply.NewReply(553, "5.1.2", "bad address literal %s", domain)
		}
		dest.Hosts = []string{net.JoinHostPort(addr.String(), SMTPPort)}
		return dest, nil
	}
	if domain == "" {
		return dest, smtpreply.NewReply(553, "5.1.2", "recipient has no domain")
	}

	mxs, err := lookup.LookupMX(ctx, domain)
	if err != nil && len(mxs) == 0 {
		if !isNotFound(err) {
			return dest, dnsFailure(domain, "MX", err)
		}
		// No MX records at all: fall through to the implicit MX.
	}
	if len(mxs) > 0 {
		hosts, null := mxHosts(mxs)
		if null {
			// RFC 7505 §4.1: the domain declares it accepts no mail; the
			// client must not try the domain's address instead.
			return dest, smtpreply.NewReply(556, "5.1.10", "domain %s has a null MX and accepts no mail (RFC 7505)", domain)
		}
		for _, h := range hosts {
			dest.Hosts = append(dest.Hosts, net.JoinHostPort(h, SMTPPort))
		}
		return dest, nil
	}

	// RFC 5321 §5.1: "If an empty list of MXs is returned, the address is
	// treated as if it was associated with an implicit MX RR, with a
	// preference of 0, pointing to that host."
	addrs, err := lookup.LookupIPAddr(ctx, domain)
	if err != nil {
		if isNotFound(err) {
			return dest, smtpreply.NewReply(550, "5.1.2", "domain %s not found", domain)
		}
		return dest, dnsFailure(domain, "A/AAAA", err)
	}
	if len(addrs) == 0 {
		return dest, smtpreply.NewReply(550, "5.1.2", "domain %s has no MX and no address", domain)
	}
	dest.Hosts = []string{net.JoinHostPort(domain, SMTPPort)}
	return dest, nil
}

// mxHosts sorts MX records by preference (RFC 5321 §5.1: lower is better;
// the sort is stable so that the resolver's randomisation among equal
// preferences survives) and returns their host names. null reports a null
// MX (RFC 7505 §3: a single record whose target is "."); a "." mixed with
// real records is skipped, since there is nothing to connect to.
func mxHosts(mxs []*net.MX) (hosts []string, null bool) {
	sorted := slices.Clone(mxs)
	slices.SortStableFunc(sorted, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	for _, mx := range sorted {
		if h := strings.TrimSuffix(mx.Host, "."); h != "" {
			hosts = append(hosts, strings.ToLower(h))
		}
	}
	return hosts, len(hosts) == 0
}

func lookupRoute(routes map[string]string, domain string) (string, bool) {
	if route, ok := routes[domain]; ok {
		return route, true
	}
	for d, route := range routes {
		if strings.EqualFold(strings.TrimSuffix(d, "."), domain) {
			return route, true
		}
	}
	return "", false
}

func withDefaultPort(hostport string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), SMTPPort)
}

// parseAddressLiteral parses "[192.0.2.1]" or "[IPv6:2001:db8::1]"
// (RFC 5321 §4.1.3).
func parseAddressLiteral(literal string) (netip.Addr, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(literal, "["), "]")
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		addr, err := netip.ParseAddr(inner[5:])
		if err == nil && !addr.Is6() {
			err = errors.New("not an IPv6 address")
		}
		return addr, err
	}
	addr, err := netip.ParseAddr(inner)
	if err == nil && !addr.Is4() {
		err = errors.New("not an IPv4 address")
	}
	return addr, err
}

func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// dnsFailure turns a DNS error that is not "no such name" into a temporary
// reply: a server failure or a timeout may pass (RFC 3463 X.4.3, "Directory
// server failure").
func dnsFailure(domain, query string, err error) *smtpreply.Reply {
	return smtpreply.NewReply(451, "4.4.3", "DNS %s lookup for %s failed: %v", query, domain, err)
}
