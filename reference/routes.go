package reference

import (
	"fmt"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
)

// ParseRoutes reads static routes, each DOMAIN=HOST:PORT, into
// Config.Routes: mail for DOMAIN (any case) goes to HOST:PORT instead of
// its MX hosts.
func ParseRoutes(specs []string) (map[string]string, error) {
	routes := make(map[string]string)
	for _, r := range specs {
		domain, addr, ok := strings.Cut(r, "=")
		if !ok || !smtpaddr.IsDomain(domain) || !strings.Contains(addr, ":") {
			return nil, fmt.Errorf("%q: want DOMAIN=HOST:PORT", r)
		}
		routes[strings.ToLower(domain)] = addr
	}
	return routes, nil
}

// Listening describes the services the server listens on: "SMTP on
// 127.0.0.1:2525", and so on for IMAP, IMAPS, POP3 and POP3S.
func (s *Server) Listening() []string {
	var out []string
	for _, svc := range []string{"smtp", "imap", "imaps", "pop3", "pop3s"} {
		if addr := s.Addr(svc); addr != "" {
			out = append(out, strings.ToUpper(svc)+" on "+addr)
		}
	}
	return out
}
