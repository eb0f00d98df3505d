package mailstore

import (
	"slices"
	"strings"
)

// IMAP system flags (RFC 9051 §2.3.2).
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// maildirLetters maps the Maildir info letters to IMAP flags. The Maildir
// convention keeps the letters in ASCII order in the file name.
var maildirLetters = []struct {
	letter byte
	flag   string
}{
	{'D', FlagDraft},
	{'F', FlagFlagged},
	{'R', FlagAnswered},
	{'S', FlagSeen},
	{'T', FlagDeleted},
}

// maxKeywords is how many keywords a mailbox can hold: Maildir info uses the
// letters a-z for them (as Dovecot does), listed in mailcheck-keywords.
const maxKeywords = 26

// CanonicalFlag returns flag with a system flag's canonical case; keywords
// are kept as given (RFC 9051 §2.3.2: flags are case-insensitive).
func CanonicalFlag(flag string) string {
	for _, l := range maildirLetters {
		if strings.EqualFold(flag, l.flag) {
			return l.flag
		}
	}
	return flag
}

// hasFlag reports whether flags holds flag, ignoring case.
func hasFlag(flags []string, flag string) bool {
	return slices.ContainsFunc(flags, func(f string) bool { return strings.EqualFold(f, flag) })
}

// normalizeFlags canonicalizes, removes duplicates and sorts.
func normalizeFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		f = CanonicalFlag(f)
		if !hasFlag(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// infoOf renders flags as Maildir info letters, using keywords (the
// mailbox's keyword table) for non-system flags; it reports false when a
// keyword is not in the table.
func infoOf(flags []string, keywords []string) (string, bool) {
	var b []byte
	for _, l := range maildirLetters {
		if hasFlag(flags, l.flag) {
			b = append(b, l.letter)
		}
	}
	for i, kw := range keywords {
		if hasFlag(flags, kw) {
			b = append(b, byte('a'+i))
		}
	}
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !hasFlag(keywords, f) {
			return "", false
		}
	}
	return string(b), true
}

// flagsOf parses Maildir info letters back into IMAP flags.
func flagsOf(info string, keywords []string) []string {
	var flags []string
	for i := 0; i < len(info); i++ {
		c := info[i]
		for _, l := range maildirLetters {
			if l.letter == c {
				flags = append(flags, l.flag)
			}
		}
		if c >= 'a' && c <= 'z' && int(c-'a') < len(keywords) {
			flags = append(flags, keywords[c-'a'])
		}
	}
	return normalizeFlags(flags)
}
