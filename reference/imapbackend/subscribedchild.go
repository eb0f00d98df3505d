package imapbackend

import (
	"reflect"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailcheck/mailcheck/reference/mailstore"
)

// subscribedBelowPatterns reports whether name has a subscribed descendant
// that no pattern matches. Both RECURSIVEMATCH's CHILDINFO (RFC 5258 §3.5)
// and LSUB's \Noselect parents (RFC 3501 §6.3.9) stand in for a subscribed
// name the listing cannot show; a descendant the listing shows itself needs
// no stand-in.
func subscribedBelowPatterns(name string, subs []string, ref string, patterns []string) bool {
	prefix := name + string(mailstore.Delimiter)
	return slices.ContainsFunc(subs, func(sub string) bool {
		return strings.HasPrefix(sub, prefix) && !slices.ContainsFunc(patterns, func(p string) bool {
			return imapserver.MatchList(sub, mailstore.Delimiter, ref, p)
		})
	})
}

// isLSub reports whether w answers LSUB rather than LIST (SUBSCRIBED):
// imapserver passes both the same options, but only LSUB lists an
// unsubscribed parent of a subscribed name, flagged \Noselect (RFC 3501
// §6.3.9); LIST (SUBSCRIBED) lists "exactly those mailbox names that ... are
// subscribed to" (RFC 5258 §3). The difference is only in the writer's
// unexported lsub field, read here by reflection rather than forking
// go-imap; TestLSubParentNoselect fails if go-imap renames it.
func isLSub(w *imapserver.ListWriter) bool {
	f := reflect.ValueOf(w).Elem().FieldByName("lsub")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}
