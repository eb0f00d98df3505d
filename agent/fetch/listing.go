package fetch

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteListing writes one line per message, in columns: its number
// (POP3) or UID (IMAP, as protocol says), size, Date, From and Subject.
func WriteListing(w io.Writer, protocol string, msgs []Message) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	id := "NUM"
	if protocol == "imap" {
		id = "UID"
	}
	fmt.Fprintf(tw, "%s\tSIZE\tDATE\tFROM\tSUBJECT\n", id)
	for _, m := range msgs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", m.ID, m.Size, oneLine(m.Date()), oneLine(m.From()), oneLine(m.Subject()))
	}
	return tw.Flush()
}

// oneLine keeps a header value on one line of the listing, with control
// characters (a tab would break the columns) shown as spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
