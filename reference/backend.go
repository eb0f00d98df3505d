package reference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/mailcheck/mailcheck/reference/mailstore"
	"github.com/mailcheck/mailcheck/reference/queue"
	"github.com/mailcheck/mailcheck/reference/smtpserver"
	"github.com/mailcheck/mailcheck/reference/users"
	"github.com/mailcheck/mailcheck/smtp/smtpaddr"
	"github.com/mailcheck/mailcheck/smtp/smtpreply"
)

// postmaster is the mailbox that receives mail for postmaster@ every local
// domain and <postmaster> (RFC 5321 §4.5.1), whether or not it is a user.
const postmaster = "postmaster"

// router is the smtpserver.Backend of the reference server: local domains
// go to mailboxes, other domains to the outgoing queue, and only
// authenticated clients may use the queue (never an open relay).
type router struct {
	domains []string // lower case
	users   *users.DB
	store   *mailstore.Store
	queue   *queue.Queue
	log     *slog.Logger
}

func (r *router) isLocalDomain(domain string) bool {
	return slices.Contains(r.domains, strings.ToLower(domain))
}

// localUser maps a mailbox in a local domain to its user, "" if none.
func (r *router) localUser(mb smtpaddr.Mailbox) string {
	// The local-part is matched case-insensitively: RFC 5321 §2.4 allows a
	// server to, and users get fewer surprises.
	name := strings.ToLower(mb.Local)
	if name == postmaster {
		return postmaster
	}
	if r.users.Has(name) {
		return name
	}
	return ""
}

func (r *router) Authenticate(_ context.Context, username, password string) (string, error) {
	name := strings.ToLower(username)
	if local, domain, ok := strings.Cut(name, "@"); ok {
		if !r.isLocalDomain(domain) {
			name = "" // never matches; the check below still does the work
		} else {
			name = local
		}
	}
	if err := r.users.Verify(name, password); err != nil {
		if errors.Is(err, users.ErrBadPassword) {
			// An existing account: its name may go in the log.
			return name, smtpserver.ErrAuthFailed
		}
		return "", smtpserver.ErrAuthFailed
	}
	return name, nil
}

func (r *router) Recipient(_ context.Context, conn *smtpserver.ConnInfo, rcpt smtpaddr.Mailbox) error {
	if rcpt.Domain == "" || r.isLocalDomain(rcpt.Domain) {
		if r.localUser(rcpt) == "" {
			return smtpreply.NewReply(550, "5.1.1", "<%s>: No such user here", rcpt)
		}
		return nil
	}
	if conn.User == "" {
		return smtpreply.NewReply(554, "5.7.1", "<%s>: Relay access denied", rcpt)
	}
	return nil
}

func (r *router) Deliver(_ context.Context, env *smtpserver.Envelope, message [][]byte) error {
	var local, remote []string
	for _, rcpt := range env.Recipients {
		domain := smtpaddr.Domain(rcpt)
		if domain == "" || r.isLocalDomain(domain) {
			local_, _, _ := strings.Cut(rcpt, "@")
			local = append(local, r.localUser(smtpaddr.Mailbox{Local: local_}))
		} else {
			remote = append(remote, rcpt)
		}
	}
	var delivered *mailstore.Delivery
	if len(local) > 0 {
		d, err := r.store.DeliverUndoable(local, message)
		if err != nil {
			return fmt.Errorf("local delivery: %w", err)
		}
		delivered = d
	}
	if len(remote) > 0 {
		if err := r.queue.Enqueue(env.From, remote, env.Body8BitMIME, message); err != nil {
			// The client is told to send the whole message again, local
			// recipients included: their copies go, or they would get it
			// twice.
			if delivered != nil {
				if undoErr := delivered.Undo(); undoErr != nil {
					return fmt.Errorf("queue: %w; local copies: %w", err, undoErr)
				}
			}
			return fmt.Errorf("queue: %w", err)
		}
	}
	return nil
}

// bounce delivers a non-delivery report to a local sender's mailbox. The
// reference relays only for its own authenticated users, so a sender outside
// the local domains is a forged address: the report is dropped (logged)
// rather than sent to a stranger (backscatter).
func (r *router) bounce(_ context.Context, sender string, msg []byte) error {
	mb, err := smtpaddr.ParseMailbox(sender)
	if err != nil || !r.isLocalDomain(mb.Domain) || r.localUser(mb) == "" {
		r.log.Warn("dropping bounce for a non-local sender", "sender", sender)
		return nil
	}
	return r.store.Deliver([]string{r.localUser(mb)}, [][]byte{msg})
}
