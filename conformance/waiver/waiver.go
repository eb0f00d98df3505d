// Package waiver lets CI accept known failures for a while: a waiver names
// checks (an ID glob), optionally targets (a glob), gives a reason and
// optionally a last day. Apply turns the matching fail, warn and error
// results of a conformance report into "waived" (the verdict kept beside
// it) and records what each waiver did: how many results it waived,
// whether it has expired, and whether it is stale (it matched no fail,
// warn or error: what it waived is fixed, and the waiver can go).
//
// The file format (mailcheck conform --waive FILE), one waiver a line:
//
//	# comment; blank lines are ignored
//	<check-id-glob> [target=<glob>] [expires=YYYY-MM-DD] <reason…>
//
// for example
//
//	smtp.data.bare-lf-dot  target=smtp://mx1.example.net:*  expires=2027-03-31  vendor ticket 4411: fixed in 3.2
//	imap.uid.*  legacy store, UIDs are rebuilt on restart
//
// The check and target globs use path.Match syntax (*, ?, [a-z]); a target
// glob is compared with the target as scheme://host:port, as host:port and
// as host. A waiver applies up to and including its expiry day (UTC). The
// reason is the rest of the line and is required.
package waiver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"
)

// Waiver is one line of a waiver file.
type Waiver struct {
	// Source is where it is written: "waivers.txt:12".
	Source string
	// Check is a glob of check IDs; Target, when not empty, a glob of
	// targets.
	Check, Target string
	// Expires is the last day it applies (midnight UTC of that day); zero
	// for no end.
	Expires time.Time
	Reason  string
}

// ErrSyntax wraps the errors of a malformed waiver file; each names the
// file and line.
var ErrSyntax = errors.New("bad waiver")

// dateLayout is the form of expires=.
const dateLayout = "2006-01-02"

// Load reads a waiver file.
func Load(file string) ([]Waiver, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, file)
}

// Parse reads waivers, one a line; name names the source in errors and in
// each Waiver's Source.
func Parse(r io.Reader, name string) ([]Waiver, error) {
	var waivers []Waiver
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		source := fmt.Sprintf("%s:%d", name, n)
		w, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSyntax, source, err)
		}
		w.Source = source
		waivers = append(waivers, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return waivers, nil
}

// parseLine reads "<check-glob> [target=<glob>] [expires=YYYY-MM-DD]
// <reason…>".
func parseLine(line string) (Waiver, error) {
	var w Waiver
	words := strings.Fields(line)
	w.Check = words[0]
	if _, _, isOption := option(w.Check); isOption {
		return w, fmt.Errorf("%q: the line starts with the check ID glob", w.Check)
	}
	if err := checkGlob("check ID glob", w.Check); err != nil {
		return w, err
	}
	i := 1
	for ; i < len(words); i++ {
		key, value, isOption := option(words[i])
		if !isOption {
			break
		}
		switch key {
		case "target":
			if w.Target != "" {
				return w, errors.New("target= given twice")
			}
			if err := checkGlob("target glob", value); err != nil {
				return w, err
			}
			w.Target = value
		case "expires":
			if !w.Expires.IsZero() {
				return w, errors.New("expires= given twice")
			}
			day, err := time.Parse(dateLayout, value)
			if err != nil {
				return w, fmt.Errorf("expires=%s: want a date YYYY-MM-DD", value)
			}
			w.Expires = day
		default:
			return w, fmt.Errorf("unknown option %q (want target=GLOB or expires=YYYY-MM-DD before the reason)", key+"=")
		}
	}
	w.Reason = strings.Join(words[i:], " ")
	if w.Reason == "" {
		return w, fmt.Errorf("no reason: want %q", "<check-id-glob> [target=<glob>] [expires=YYYY-MM-DD] <reason>")
	}
	return w, nil
}

// option splits a word of the form key=value, key in lower-case letters
// (the options' form; a reason does not start with one).
func option(word string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(word, "=")
	if !ok || key == "" {
		return "", "", false
	}
	for _, c := range key {
		if c < 'a' || c > 'z' {
			return "", "", false
		}
	}
	return key, value, true
}

func checkGlob(what, glob string) error {
	if glob == "" {
		return fmt.Errorf("empty %s", what)
	}
	if _, err := path.Match(glob, ""); err != nil {
		return fmt.Errorf("%s %q: %v", what, glob, err)
	}
	return nil
}

// ExpiresDay is the expiry as written (YYYY-MM-DD), or "" for none.
func (w Waiver) ExpiresDay() string {
	if w.Expires.IsZero() {
		return ""
	}
	return w.Expires.Format(dateLayout)
}

// Expired reports whether the waiver's last day is over at now.
func (w Waiver) Expired(now time.Time) bool {
	return !w.Expires.IsZero() && !now.UTC().Before(w.Expires.AddDate(0, 0, 1))
}

// Matches reports whether the waiver covers the check id run against
// target (as a result names it: scheme://host:port).
func (w Waiver) Matches(id, target string) bool {
	if ok, _ := path.Match(w.Check, id); !ok {
		return false
	}
	return w.Target == "" || matchesTarget(w.Target, target)
}

// matchesTarget compares the glob with the target as scheme://host:port,
// host:port and host.
func matchesTarget(glob, target string) bool {
	forms := []string{target}
	if _, addr, ok := strings.Cut(target, "://"); ok {
		forms = append(forms, addr)
		target = addr
	}
	if i := strings.LastIndexByte(target, ':'); i > 0 {
		forms = append(forms, strings.Trim(target[:i], "[]"))
	}
	for _, f := range forms {
		if ok, _ := path.Match(glob, f); ok {
			return true
		}
	}
	return false
}
