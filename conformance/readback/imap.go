package readback

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
)

var literalRE = regexp.MustCompile(`\{(\d+)\}\r\n$`)

// imapSession is a read-back session with an IMAP server (RFC 9051).
type imapSession struct {
	target engine.Target
	t      *engine.T
	c      *engine.Conn
	seq    int
}

// cmd sends a tagged command and returns the untagged lines, with a
// literal's content appended to the line that announced it.
func (s *imapSession) cmd(line string) ([]string, error) {
	s.seq++
	tag := "m" + strconv.Itoa(s.seq)
	if err := s.c.Send(tag + " " + line); err != nil {
		return nil, err
	}
	var out []string
	for {
		l, err := s.c.ReadLine()
		if err != nil {
			return nil, err
		}
		if m := literalRE.FindSubmatch(l); m != nil {
			lit, err := s.literal(string(m[1]))
			if err != nil {
				return nil, err
			}
			out = append(out, string(l)+string(lit))
			continue
		}
		str := string(l)
		if strings.HasPrefix(str, tag+" ") {
			if !strings.HasPrefix(str, tag+" OK") {
				// A refusal is the read-back server's, not the subject's
				// of the check: a precondition. Only the verb is quoted
				// (LOGIN carries the password).
				verb, _, _ := strings.Cut(line, " ")
				return out, engine.Unmet("the read-back mailbox %s refused %s: %s", s.target, verb, strings.TrimSpace(str))
			}
			return out, nil
		}
		out = append(out, str)
	}
}

// literal reads a literal of the announced size. The size is the server's
// word, not a fact: a size past what a check may receive at all
// (Options.MaxReceive) is refused before anything is allocated for it, and
// the content is gathered as it comes, never preallocated.
func (s *imapSession) literal(announced string) ([]byte, error) {
	limit := cmp.Or(s.t.Options.MaxReceive, engine.DefaultMaxReceive)
	size, err := strconv.ParseInt(announced, 10, 64)
	if err != nil || size > limit {
		return nil, fmt.Errorf("read-back IMAP: the server announces a literal of %s octets, more than a read-back takes (%d)", announced, limit)
	}
	var lit []byte
	for int64(len(lit)) < size {
		more, err := s.c.ReadLine()
		if err != nil {
			return nil, err
		}
		lit = append(lit, more...)
	}
	// The line that ends the literal goes on after it: keep only the
	// literal (the rest of that line closes the FETCH response).
	return lit[:size], nil
}

// takeIMAP is take over IMAP: UID SEARCH by header, UID FETCH, and UID
// EXPUNGE of exactly the messages found (RFC 4315; plain EXPUNGE would
// also remove messages others marked \Deleted, so without UIDPLUS or
// IMAP4rev2 nothing is deleted).
func takeIMAP(ctx context.Context, t *engine.T, target engine.Target, nonces []string, fetch bool) (map[string][]byte, []string, error) {
	c, err := t.DialTarget(ctx, target)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	s := &imapSession{target: target, t: t, c: c}
	if _, err := c.ReadLine(); err != nil {
		return nil, nil, err
	}
	caps, _ := s.cmd("CAPABILITY")
	if strings.Contains(strings.Join(caps, " "), "STARTTLS") && !c.TLS() {
		// Credentials go out only under TLS when TLS is offered.
		if _, err := s.cmd("STARTTLS"); err != nil {
			return nil, nil, err
		}
		if err := c.StartTLS(); err != nil {
			return nil, nil, err
		}
	}
	if _, err := s.cmd("LOGIN " + quote(target.User) + " " + quote(target.Password)); err != nil {
		return nil, nil, err
	}
	caps, _ = s.cmd("CAPABILITY")
	canExpungeUIDs := strings.Contains(strings.Join(caps, " "), "UIDPLUS") || strings.Contains(strings.Join(caps, " "), "IMAP4rev2")
	if _, err := s.cmd("SELECT INBOX"); err != nil {
		return nil, nil, err
	}
	got := map[string][]byte{}
	var deleted []string
	for _, n := range nonces {
		uids, err := s.search(n)
		if err != nil {
			return got, deleted, err
		}
		if len(uids) == 0 {
			continue
		}
		got[n] = []byte{}
		if fetch {
			msg, err := s.fetch(uids[0])
			if err != nil {
				return got, deleted, err
			}
			got[n] = msg
		}
		if canExpungeUIDs {
			set := strings.Join(uids, ",")
			if _, err := s.cmd("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)"); err == nil {
				if _, err := s.cmd("UID EXPUNGE " + set); err == nil {
					deleted = append(deleted, n)
				}
			}
		}
	}
	s.cmd("LOGOUT")
	return got, deleted, nil
}

// search returns the UIDs of the messages marked with nonce n.
func (s *imapSession) search(n string) ([]string, error) {
	found, err := s.cmd("UID SEARCH HEADER X-Mailcheck-Nonce " + n)
	if err != nil {
		return nil, err
	}
	var uids []string
	for _, l := range found {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "*" && strings.EqualFold(f[1], "SEARCH") {
			uids = append(uids, f[2:]...)
		}
	}
	return uids, nil
}

// fetch returns the whole message with UID uid, without setting \Seen.
func (s *imapSession) fetch(uid string) ([]byte, error) {
	lines, err := s.cmd("UID FETCH " + uid + " BODY.PEEK[]")
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if _, after, ok := strings.Cut(l, "}\r\n"); ok {
			return []byte(after), nil
		}
	}
	return nil, engine.Unmet("the read-back mailbox %s answered UID FETCH %s BODY.PEEK[] without the message", s.target, uid)
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
