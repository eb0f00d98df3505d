package smtpclient

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// Caps are the capabilities a server advertised in its EHLO reply (RFC
// 5321 §4.1.1.1): the first line names the server, each further line is
// "ehlo-keyword *(SP ehlo-param)". Keywords are compared without regard to
// case (RFC 5321 §2.4: "Verbs and argument values (e.g., "TO:" or "to:"
// in the RCPT command and extension name keywords) are not case
// sensitive").
type Caps struct {
	// Domain is the first line's text: the server's name and greeting.
	Domain string
	// Extensions are the further lines in order, as sent.
	Extensions []Extension
}

// Extension is one EHLO line after the first.
type Extension struct {
	// Keyword is the text up to the first space, as sent.
	Keyword string
	// Text is the rest after that space, as sent ("" when none).
	Text string
	// Params are Text's space-separated parameters.
	Params []string
}

// ParseCaps reads an EHLO (or LHLO) reply.
func ParseCaps(r *smtpreply.Reply) *Caps {
	c := &Caps{}
	for i, line := range r.Lines {
		if i == 0 {
			c.Domain = line
			continue
		}
		kw, text, _ := strings.Cut(line, " ")
		c.Extensions = append(c.Extensions, Extension{Keyword: kw, Text: text, Params: strings.Fields(text)})
	}
	return c
}

// Lookup returns the parameters of keyword kw, and whether it was
// advertised. The legacy "AUTH=LOGIN PLAIN" form, which servers still send
// for clients that predate RFC 4954, counts as AUTH with its mechanisms.
func (c *Caps) Lookup(kw string) (params []string, ok bool) {
	if c == nil {
		return nil, false
	}
	for _, e := range c.Extensions {
		switch {
		case strings.EqualFold(e.Keyword, kw):
			params, ok = append(params, e.Params...), true
		case strings.EqualFold(kw, "AUTH") && len(e.Keyword) > 5 && strings.EqualFold(e.Keyword[:5], "AUTH="):
			params, ok = append(append(params, e.Keyword[5:]), e.Params...), true
		}
	}
	return params, ok
}

// Has reports whether keyword kw was advertised.
func (c *Caps) Has(kw string) bool {
	_, ok := c.Lookup(kw)
	return ok
}

// Keywords maps each keyword, upper case and as sent otherwise, to its
// parameter text as sent (what a check of the EHLO reply itself judges).
func (c *Caps) Keywords() map[string]string {
	m := map[string]string{}
	if c != nil {
		for _, e := range c.Extensions {
			m[strings.ToUpper(e.Keyword)] = e.Text
		}
	}
	return m
}

// Size returns the SIZE limit (RFC 1870 §4) and whether SIZE was
// advertised; a limit of 0 means none declared ("A parameter value of 0
// (zero) indicates that no fixed maximum message size is in force. If the
// parameter is omitted no information is conveyed"). An unreadable
// parameter counts as none declared.
func (c *Caps) Size() (limit int64, ok bool) {
	params, ok := c.Lookup("SIZE")
	if ok && len(params) > 0 {
		if n, err := strconv.ParseInt(params[0], 10, 64); err == nil && n > 0 {
			limit = n
		}
	}
	return limit, ok
}

// AuthMechanisms returns the SASL mechanisms of AUTH (RFC 4954 §3), upper
// case, the legacy "AUTH=" form included, each once.
func (c *Caps) AuthMechanisms() []string {
	params, _ := c.Lookup("AUTH")
	var mechs []string
	for _, p := range params {
		if m := strings.ToUpper(p); !slices.Contains(mechs, m) {
			mechs = append(mechs, m)
		}
	}
	return mechs
}

// HasAuth reports whether mechanism mech is offered.
func (c *Caps) HasAuth(mech string) bool {
	return slices.Contains(c.AuthMechanisms(), strings.ToUpper(mech))
}

// Pipelining reports PIPELINING (RFC 2920).
func (c *Caps) Pipelining() bool { return c.Has("PIPELINING") }

// EightBitMIME reports 8BITMIME (RFC 6152).
func (c *Caps) EightBitMIME() bool { return c.Has("8BITMIME") }

// SMTPUTF8 reports SMTPUTF8 (RFC 6531).
func (c *Caps) SMTPUTF8() bool { return c.Has("SMTPUTF8") }

// Chunking reports CHUNKING (RFC 3030).
func (c *Caps) Chunking() bool { return c.Has("CHUNKING") }

// DSN reports DSN (RFC 3461).
func (c *Caps) DSN() bool { return c.Has("DSN") }

// StartTLS reports STARTTLS (RFC 3207).
func (c *Caps) StartTLS() bool { return c.Has("STARTTLS") }

// EnhancedStatusCodes reports ENHANCEDSTATUSCODES (RFC 2034).
func (c *Caps) EnhancedStatusCodes() bool { return c.Has("ENHANCEDSTATUSCODES") }
