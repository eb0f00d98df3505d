package pop3client

import (
	"errors"
	"strings"
)

// Capabilities is a CAPA answer (RFC 2449 §5): each capability's tag,
// upper case, with its parameters ("SASL" → {"PLAIN", "LOGIN"}).
type Capabilities map[string][]string

// Has reports whether the tag is listed, without regard to case.
func (caps Capabilities) Has(tag string) bool {
	_, ok := caps[strings.ToUpper(tag)]
	return ok
}

// Params are the parameters of tag, nil when not listed.
func (caps Capabilities) Params(tag string) []string { return caps[strings.ToUpper(tag)] }

// ParseCapabilities reads a CAPA body, one capability a line (RFC 2449
// §5: capability = cap-tag *(SP param)); blank lines are skipped.
func ParseCapabilities(body []byte) Capabilities {
	caps := Capabilities{}
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			caps[strings.ToUpper(f[0])] = f[1:]
		}
	}
	return caps
}

// Capa asks for the capabilities (RFC 2449 §5) and keeps them for Caps.
// A server without CAPA (-ERR) gives nil and a *RefusedError.
func (c *Client) Capa() (Capabilities, error) {
	c.caps = nil
	_, body, err := c.Multi("CAPA", c.policy.Listing)
	if err != nil {
		return nil, err
	}
	c.caps = ParseCapabilities(body)
	return c.caps, nil
}

// Caps is the last CAPA answer: nil when not asked, not offered, or
// forgotten after STLS.
func (c *Client) Caps() Capabilities { return c.caps }

// Refused reports whether err is the server's -ERR (not a failed read).
func Refused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}
