package pop3server

// Faults break the server in single, named ways, so that each POP3
// conformance check can be shown to fail against a server with exactly that
// fault and pass against the correct one. Only tests set them; the zero
// value is the correct server. Each field names the check(s) it exists for.
type Faults struct {
	// GreetingText replaces the whole greeting line (pop3.greeting.ok).
	GreetingText string
	// LowerCaseStatus sends "+ok"/"-err" (pop3.status.case).
	LowerCaseStatus bool
	// CAPAUnterminated leaves the CAPA listing without its "." line
	// (pop3.multiline.terminated).
	CAPAUnterminated bool
	// NoByteStuffing sends lines starting with "." as they are
	// (pop3.retr.byte-stuffing, pop3.top.byte-stuffing).
	NoByteStuffing bool
	// STATBeforeLogin answers STAT in AUTHORIZATION
	// (pop3.state.stat-before-login).
	STATBeforeLogin bool
	// USERAfterLogin answers USER in TRANSACTION
	// (pop3.state.user-after-login).
	USERAfterLogin bool
	// STLSInTransaction accepts STLS in TRANSACTION (pop3.stls.in-transaction).
	STLSInTransaction bool
	// CloseAfterFailedLogin hangs up after a failed PASS
	// (pop3.auth.failure-stays).
	CloseAfterFailedLogin bool
	// AcceptAnyPassword logs in with any password (pop3.auth.wrong-password).
	AcceptAnyPassword bool
	// QUITBeforeLoginErr answers QUIT in AUTHORIZATION -ERR
	// (pop3.quit.before-login).
	QUITBeforeLoginErr bool
	// STATExtraText adds words to STAT (pop3.stat.syntax).
	STATExtraText bool
	// STATSizeOff reports one octet too many in STAT (pop3.stat.agrees-list).
	STATSizeOff bool
	// LISTSizeOff reports one octet too many in the scan listing of LIST
	// msg (pop3.list.matches-retr); the full listing stays right, so STAT
	// and LIST still agree (pop3.stat.agrees-list has STATSizeOff).
	LISTSizeOff bool
	// MissingMessageOK answers LIST, RETR and DELE of a message that does
	// not exist +OK (pop3.list.missing, pop3.retr.missing, pop3.dele.missing).
	MissingMessageOK bool
	// DeletedStillListed keeps marked messages in STAT, LIST and RETR
	// (pop3.dele.marks).
	DeletedStillListed bool
	// RenumberAfterDELE numbers the remaining messages 1..n after a DELE
	// (pop3.dele.numbers-stable).
	RenumberAfterDELE bool
	// RSETKeepsMarks does not unmark (pop3.rset.unmarks).
	RSETKeepsMarks bool
	// DeleteOnDELE removes a message at DELE, not in UPDATE
	// (pop3.update.drop-keeps).
	DeleteOnDELE bool
	// QUITKeepsMarked removes nothing at QUIT (pop3.update.quit-deletes,
	// pop3.mode.download-and-delete).
	QUITKeepsMarked bool
	// UIDLWithSpace sends unique-ids with a space in them (pop3.uidl.syntax).
	UIDLWithSpace bool
	// UIDLSame gives every message the same unique-id (pop3.uidl.unique).
	UIDLSame bool
	// UIDLPerSession changes the unique-ids in every session
	// (pop3.uidl.stable).
	UIDLPerSession bool
	// TOPWholeMessage ignores TOP's line count (pop3.top.lines).
	TOPWholeMessage bool
	// NoLock lets two sessions open one maildrop (pop3.lock.exclusive).
	NoLock bool
	// InUseWithoutCode refuses a locked maildrop without [IN-USE]
	// (pop3.lock.in-use-code).
	InUseWithoutCode bool
	// CAPAOnlyBeforeLogin refuses CAPA in TRANSACTION (pop3.capa.both-states).
	CAPAOnlyBeforeLogin bool
	// DropPipelinedInput throws away input buffered behind each command
	// (pop3.pipelining.order).
	DropPipelinedInput bool
	// STLSStillOffered lists STLS in CAPA after TLS (pop3.stls.capa-after).
	STLSStillOffered bool
	// RETRMarksDeleted marks every retrieved message deleted
	// (pop3.mode.download-and-keep).
	RETRMarksDeleted bool
	// NOOPErr answers NOOP -ERR (pop3.noop.ok).
	NOOPErr bool
	// FailedLoginEntersTransaction opens the maildrop after refusing a
	// wrong PASS: the -ERR is sent, yet the session is in TRANSACTION
	// (pop3.auth.failure-stays).
	FailedLoginEntersTransaction bool
	// CAPAMisspelled lists RESP-CODES as "RESP_CODES" (pop3.capa.syntax;
	// pop3.lock.in-use-code then calls RESP-CODES malformed).
	CAPAMisspelled bool
	// CAPAExtraLine adds a line to the CAPA listing, to show the suite
	// reads arguments against the grammar ("LOGIN-DELAY soon").
	CAPAExtraLine string
	// RespCodeAfterText moves every response code after the text:
	// "-ERR Maildrop already locked [IN-USE]" (pop3.resp-codes.syntax).
	RespCodeAfterText bool
	// RETRAppendsCRLF adds an empty line at the end of every message RETR
	// sends, as a read-back server that alters messages does
	// (pop3.list.matches-retr, e2e.pop3.byte-identical).
	RETRAppendsCRLF bool
}

// The helpers below apply faults to what a session reports; with no fault
// they give the correct numbering, sizes and unique-ids.

// number is the message number of index i (RFC 1939 §5: numbers never
// change; the RenumberAfterDELE fault counts only unmarked messages).
func (s *session) number(i int) int {
	if !s.faults().RenumberAfterDELE {
		return i + 1
	}
	n := 0
	for j := 0; j <= i; j++ {
		if !s.deleted[j] {
			n++
		}
	}
	return n
}

// renumbered maps a message number given under the RenumberAfterDELE fault
// back to the real one.
func (s *session) renumbered(n uint64) uint64 {
	var seen uint64
	for j := range s.msgs {
		if !s.deleted[j] {
			seen++
			if seen == n {
				return uint64(j + 1)
			}
		}
	}
	return n
}

// listedSize is message i's size in a scan listing; one is LIST msg.
func (s *session) listedSize(i int, one bool) int64 {
	if one && s.faults().LISTSizeOff {
		return s.msgs[i].Size + 1
	}
	return s.msgs[i].Size
}

func (s *session) uidl(i int) string {
	f := s.faults()
	switch {
	case f.UIDLWithSpace:
		return "id " + s.msgs[i].UID
	case f.UIDLSame:
		return "same-id"
	case f.UIDLPerSession:
		return s.conn.ID() + "-" + s.msgs[i].UID
	}
	return s.msgs[i].UID
}
