package engine

import (
	"cmp"

	"github.com/mailcheck/mailcheck/bounds"
)

// Bounds is the read-limit policy of a check's clients (the POP3 client,
// the IMAP response reader): MaxReceive is its Total, a literal or message
// is at most that much too, and a line at most what Conn reads as one.
// The Conn itself holds all the check's connections together to
// MaxReceive; Total bounds each of them on its own.
func (o *Options) Bounds() bounds.Policy {
	total := cmp.Or(o.MaxReceive, DefaultMaxReceive)
	return bounds.Policy{
		Line:    readBufferSize,
		Literal: min(bounds.Default.Literal, total),
		Total:   total,
	}.WithDefaults()
}
