package conformance

import (
	"context"
	"slices"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/readback"
)

// sweep deletes, at the end of a run, the messages its checks sent to
// Options.Rcpt and did not delete themselves, through the mailbox where
// that mail arrives (sweepMailbox), and returns what it could not delete.
// A message the sweep does not find is taken as gone: refused, deleted by
// its check, or never delivered (one delivered after the sweep escapes it).
func sweep(ctx context.Context, targets []Target, opts *Options) []Leftover {
	left := opts.State.Undeleted()
	if len(left) == 0 {
		return nil
	}
	mailbox, ok := sweepMailbox(targets, opts)
	undeletable := map[string]bool{} // found in the mailbox, and could not be deleted
	reason := "no read-back mailbox for " + opts.Rcpt + " (--readback)"
	if ok {
		var nonces []string
		for _, m := range left {
			if slices.Contains(m.To, opts.Rcpt) {
				nonces = append(nonces, m.Nonce)
			}
		}
		t := engine.Detached("mailcheck.sweep", mailbox, opts)
		kept, err := readback.Sweep(ctx, t, mailbox, nonces)
		reason = ""
		if err != nil {
			reason = "the sweep of " + mailbox.String() + " failed: " + err.Error()
		}
		left = opts.State.Undeleted()
		for _, n := range kept {
			undeletable[n] = true
		}
	}
	var out []Leftover
	for _, m := range left {
		l := Leftover{Nonce: m.Nonce, Check: m.Check, Via: m.Via, Reason: reason}
		if undeletable[m.Nonce] {
			l.Reason = "found in " + mailbox.String() + ", which cannot delete it alone (IMAP without UIDPLUS, or DELE refused)"
		}
		for _, rcpt := range m.To {
			if rcpt != opts.Rcpt || !ok || l.Reason != "" {
				l.To = append(l.To, rcpt)
			}
		}
		if len(l.To) == 0 {
			continue // not in the mailbox: gone
		}
		if l.Reason == "" {
			l.Reason = "sent to " + strings.Join(l.To, ", ") + ", a mailbox the run cannot read"
		}
		out = append(out, l)
	}
	return out
}

// sweepMailbox is where mail to Options.Rcpt can be read: the read-back
// mailbox, or else a POP3 or IMAP target with a login (mail sent through
// the seed server to Rcpt arrives there).
func sweepMailbox(targets []Target, opts *Options) (Target, bool) {
	if opts.Rcpt == "" {
		return Target{}, false
	}
	if opts.Readback != nil {
		return *opts.Readback, true
	}
	for _, t := range targets {
		if (t.Protocol == "pop3" || t.Protocol == "imap") && t.User != "" {
			return t, true
		}
	}
	return Target{}, false
}
