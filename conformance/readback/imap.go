package readback

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/imap/imapwire"
)

// imapSession is a read-back session with an IMAP server (RFC 9051).
type imapSession struct {
	target engine.Target
	c      *engine.Conn
	rd     *imapwire.Reader
	seq    int
}

// cmd sends a tagged command and returns the untagged responses, read
// within the check's bounds (a literal announced over them is refused
// before anything is allocated for it).
func (s *imapSession) cmd(line string) ([]*imapwire.Response, error) {
	s.seq++
	tag := "m" + strconv.Itoa(s.seq)
	if err := s.c.Send(tag + " " + line); err != nil {
		return nil, err
	}
	c, err := s.rd.Collect(tag, false, nil)
	if err != nil {
		return nil, fmt.Errorf("read-back IMAP: %w", err)
	}
	if c.Done.Kind() != "OK" {
		// A refusal is the read-back server's, not the subject's of the
		// check: a precondition. Only the verb is quoted (LOGIN carries
		// the password).
		verb, _, _ := strings.Cut(line, " ")
		return c.Untagged, engine.Unmet("the read-back mailbox %s refused %s: %s", s.target, verb, c.Done)
	}
	return c.Untagged, nil
}

// capabilities is what a CAPABILITY command lists, upper case.
func (s *imapSession) capabilities() map[string]bool {
	caps := map[string]bool{}
	found, _ := s.cmd("CAPABILITY")
	for _, r := range found {
		if r.Kind() == "CAPABILITY" {
			for _, c := range strings.Fields(r.Text)[1:] {
				caps[strings.ToUpper(c)] = true
			}
		}
	}
	return caps
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
	s := &imapSession{target: target, c: c, rd: imapwire.NewReader(c, t.Options.Bounds())}
	if _, err := s.rd.Read(); err != nil {
		return nil, nil, err
	}
	if s.capabilities()["STARTTLS"] && !c.TLS() {
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
	caps := s.capabilities()
	canExpungeUIDs := caps["UIDPLUS"] || caps["IMAP4REV2"]
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
	for _, r := range found {
		if f := strings.Fields(r.Text); len(f) > 1 && r.Kind() == "SEARCH" {
			uids = append(uids, f[1:]...)
		}
	}
	return uids, nil
}

// fetch returns the whole message with UID uid, without setting \Seen.
func (s *imapSession) fetch(uid string) ([]byte, error) {
	found, err := s.cmd("UID FETCH " + uid + " BODY.PEEK[]")
	if err != nil {
		return nil, err
	}
	for _, r := range found {
		if msg, ok := r.LiteralOf("BODY[]"); ok && r.Kind() == "FETCH" {
			return msg, nil
		}
	}
	return nil, engine.Unmet("the read-back mailbox %s answered UID FETCH %s BODY.PEEK[] without the message", s.target, uid)
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
