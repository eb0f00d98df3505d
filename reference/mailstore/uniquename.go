package mailstore

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// uniqueNames makes Maildir base names, "time.MusecPpidQn.host" as the
// Maildir specification recommends: unique across processes on this host
// and across restarts of this one. The time is the message's internal date.
type uniqueNames struct {
	host string
	pid  int
	seq  atomic.Uint64
}

func newUniqueNames() *uniqueNames {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	// The Maildir specification: '/' and ':' in the host name are encoded;
	// ',' would be taken for a field separator.
	host = strings.NewReplacer("/", `\057`, ":", `\072`, ",", `\054`).Replace(host)
	return &uniqueNames{host: host, pid: os.Getpid()}
}

// nextAt returns a new base name carrying t.
func (u *uniqueNames) nextAt(t time.Time) string {
	return fmt.Sprintf("%d.M%dP%dQ%d.%s", t.Unix(), t.Nanosecond()/1000, u.pid, u.seq.Add(1), u.host)
}

// messageName is the name of a message file in new/ or cur/:
// base,S=<size>,U=<uid>[:2,<flags>].
type messageName struct {
	Base    string
	Size    int64 // -1 when the name carries none
	UID     uint32
	HasUI   bool   // the name carried U=
	Info    string // after ":2,": Maildir flags
	HasInfo bool   // the name carries ":2,"
}

func (n messageName) String() string {
	s := n.Base
	if n.Size >= 0 {
		s += ",S=" + strconv.FormatInt(n.Size, 10)
	}
	if n.HasUI {
		s += ",U=" + strconv.FormatUint(uint64(n.UID), 10)
	}
	if n.HasInfo || n.Info != "" {
		s += ":2," + n.Info
	}
	return s
}

// time returns the internal date the base name carries ("sec.Musec…"), or
// the zero time for a name that does not start with one.
func (n messageName) time() time.Time {
	secStr, rest, _ := strings.Cut(n.Base, ".")
	sec, err := strconv.ParseInt(secStr, 10, 64)
	if err != nil {
		return time.Time{}
	}
	var usec int64
	if strings.HasPrefix(rest, "M") {
		end := strings.IndexFunc(rest[1:], func(r rune) bool { return r < '0' || r > '9' })
		if end < 0 {
			end = len(rest) - 1
		}
		usec, _ = strconv.ParseInt(rest[1:1+end], 10, 64)
	}
	return time.Unix(sec, usec*1000)
}

// parseMessageName splits a Maildir file name into its parts. Names written
// by other tools (no S=, no U=) parse too.
func parseMessageName(name string) messageName {
	n := messageName{Size: -1}
	if i := strings.Index(name, ":2,"); i >= 0 {
		n.Info, n.HasInfo = name[i+3:], true
		name = name[:i]
	}
	parts := strings.Split(name, ",")
	n.Base = parts[0]
	var rest []string
	for _, p := range parts[1:] {
		switch {
		case strings.HasPrefix(p, "S="):
			if v, err := strconv.ParseInt(p[2:], 10, 64); err == nil {
				n.Size = v
				continue
			}
		case strings.HasPrefix(p, "U="):
			if v, err := strconv.ParseUint(p[2:], 10, 32); err == nil && v > 0 {
				n.UID, n.HasUI = uint32(v), true
				continue
			}
		}
		rest = append(rest, p)
	}
	if len(rest) > 0 {
		// Keep fields we do not understand (Dovecot's W=, say) in the base.
		n.Base += "," + strings.Join(rest, ",")
	}
	return n
}
