package smtpserver

import "time"

// Faults break the server in single, named ways, so that each conformance
// check can be shown to fail against a server with exactly that fault and
// pass against the correct one. Only tests set them; the zero value is the
// correct server. Each field names the check it exists for.
type Faults struct {
	// GreetingCode replaces 220 in the greeting (smtp.greeting.code).
	GreetingCode int
	// GreetingText replaces the greeting's text, domain included
	// (smtp.greeting.domain).
	GreetingText string
	// ReplyLineEndLF ends every reply line with a bare LF instead of CRLF
	// (smtp.reply.syntax).
	ReplyLineEndLF bool
	// MultilineWithoutHyphen ends every line of a multi-line reply with a
	// space, as if each were the last (smtp.reply.multiline).
	MultilineWithoutHyphen bool
	// RefuseEHLO and RefuseHELO answer 502 (smtp.ehlo.accepted,
	// smtp.helo.accepted).
	RefuseEHLO, RefuseHELO bool
	// CaseSensitiveVerbs knows only upper-case verbs
	// (smtp.command.case-insensitive).
	CaseSensitiveVerbs bool
	// NOOPMissing, RSETMissing and VRFYMissing answer 502
	// (smtp.noop.ok, smtp.rset.ok, smtp.vrfy.implemented).
	NOOPMissing, RSETMissing, VRFYMissing bool
	// RefuseNOOPArguments answers NOOP with an argument 500, and
	// RefuseSecondEHLO answers an EHLO after an accepted one 503: both
	// are allowed (RFC 5321 §4.1.1.9 only says the argument is ignored,
	// if given; §4.1.4 resets the session only when a later EHLO is
	// acceptable), so no check may fail for them.
	RefuseNOOPArguments, RefuseSecondEHLO bool
	// QUITStaysOpen answers 221 and keeps the connection (smtp.quit.closes).
	QUITStaysOpen bool
	// UnknownCommand502 answers unknown commands 502 (smtp.command.unknown).
	UnknownCommand502 bool
	// RefusePostmaster refuses postmaster, with or without a domain
	// (smtp.postmaster.bare, smtp.postmaster.domain).
	RefusePostmaster bool
	// UnknownRecipient501 answers an unknown local recipient 501, a
	// syntax error, instead of 550 (smtp.rcpt.unknown-user).
	UnknownRecipient501 bool
	// RcptWithoutMail accepts RCPT before MAIL
	// (smtp.sequence.rcpt-before-mail).
	RcptWithoutMail bool
	// DataWithoutRcpt answers DATA with no recipient 354
	// (smtp.sequence.data-before-rcpt).
	DataWithoutRcpt bool
	// RSETKeeps, NOOPResets and EHLOKeeps get the transaction wrong
	// (smtp.sequence.rset-clears, smtp.sequence.noop-keeps,
	// smtp.sequence.ehlo-resets).
	RSETKeeps, NOOPResets, EHLOKeeps bool
	// RefuseNullSender refuses MAIL FROM:<> (smtp.mail.null-sender).
	RefuseNullSender bool
	// IgnoreUnknownParameters accepts any MAIL parameter
	// (smtp.mail.unknown-parameter).
	IgnoreUnknownParameters bool
	// DotLineEndsData ends DATA at any line starting with "."
	// (smtp.data.dot-termination).
	DotLineEndsData bool
	// BareLFEndsData ends DATA at "\n.\n", bare LFs and all
	// (smtp.data.bare-lf-dot).
	BareLFEndsData bool
	// LFStartsLine takes a bare LF for a line end when looking for the end
	// of data, so "\n.\r\n" ends DATA (the bare LF is still refused):
	// the receiving half of the <LF>.<CR><LF> smuggling variant
	// (smtp.data.lf-dot-crlf).
	LFStartsLine bool
	// EndOfData is one more sequence that ends DATA, the way a lenient
	// server takes a malformed end of data ("\r.\r", "\r\n\x00.\r\n", …)
	// for the real one: the receiving half of an SMTP smuggling variant
	// (the smtp.data.* end-of-data variant checks). The octets before it
	// are judged as the message, as if CRLF.CRLF had followed.
	EndOfData string
	// KeepStuffedDots does not remove the stuffed dot (smtp.data.transparency).
	KeepStuffedDots bool
	// NoReceivedHeader adds no trace header (smtp.received.added).
	NoReceivedHeader bool
	// StripHighBit accepts 8-bit data with or without BODY=8BITMIME and
	// clears the high bit of every octet (smtp.8bit.without-8bitmime,
	// smtp.8bitmime.preserved).
	StripHighBit bool
	// TruncateLongLines accepts body lines over 1000 octets and stores
	// them cut to 998 (smtp.content.long-line-1500,
	// smtp.content.long-line-5000).
	TruncateLongLines bool
	// QuoteFromLines stores a body line starting "From " as ">From ", as
	// an mbox store that does not undo its quoting would
	// (smtp.content.from-line).
	QuoteFromLines bool
	// RefoldLongHeaderLines accepts header lines over 1000 octets and
	// stores them folded into lines of about 78 octets
	// (smtp.content.long-header-line).
	RefoldLongHeaderLines bool
	// DeliverAfter answers 250 at the end of data and delivers the message
	// only this long after: a slow delivery, not a fault (the read-back
	// must wait for it: smtp.received.added passes).
	DeliverAfter time.Duration
	// Accept8BitCommands accepts 8-bit octets in addresses
	// (smtp.command.8bit).
	Accept8BitCommands bool
	// MaxCommandLine and MaxTextLine lower the line limits below the RFC
	// minimums (smtp.limit.command-line-512, smtp.limit.text-line-1000).
	MaxCommandLine, MaxTextLine int
	// IgnoreDeclaredSize accepts SIZE= over the limit (smtp.size.enforced).
	IgnoreDeclaredSize bool
	// SizeKeyword replaces the EHLO SIZE line (smtp.size.syntax).
	SizeKeyword string
	// RecipientLimit answers 452 after this many recipients, even below the
	// RFC minimum of 100 (smtp.limit.recipients-100).
	RecipientLimit int
	// DropPipelinedInput throws away input buffered behind each command
	// (smtp.pipelining.order).
	DropPipelinedInput bool
	// DropInputAfterError throws away input buffered behind a command that
	// was refused (smtp.pipelining.after-reject).
	DropInputAfterError bool
	// STARTTLSIgnoresArguments, STARTTLSStillOffered and
	// STARTTLSRunsPlaintext break RFC 3207 (smtp.starttls.arguments,
	// smtp.starttls.not-offered-after, smtp.starttls.no-injection).
	STARTTLSIgnoresArguments, STARTTLSStillOffered, STARTTLSRunsPlaintext bool
	// AuthRefusesAll and AuthAcceptsAll ignore the password
	// (smtp.auth.success, smtp.auth.bad-credentials).
	AuthRefusesAll, AuthAcceptsAll bool
	// AuthTwice and AuthInTransaction allow AUTH where RFC 4954 forbids it
	// (smtp.auth.twice, smtp.auth.in-transaction).
	AuthTwice, AuthInTransaction bool
	// AuthCancelCode and AuthBadBase64Code replace 501 for a cancelled
	// exchange and an undecodable response (smtp.auth.cancel,
	// smtp.auth.bad-base64).
	AuthCancelCode, AuthBadBase64Code int
	// OmitEnhancedCodes drops the enhanced code from 5xx replies
	// (smtp.enhanced.present).
	OmitEnhancedCodes bool
	// EnhancedClassMismatch gives 5xx replies a 2.x.x enhanced code
	// (smtp.enhanced.class).
	EnhancedClassMismatch bool
	// AdvertiseSMTPUTF8 offers SMTPUTF8 (which the server does not
	// implement); HideEightBitMIME stops offering 8BITMIME
	// (smtp.smtputf8.implies-8bitmime).
	AdvertiseSMTPUTF8, HideEightBitMIME bool
	// BadEHLOKeyword offers a malformed keyword (smtp.ehlo.keywords).
	BadEHLOKeyword bool
	// OpenRelay lets unauthenticated clients relay (smtp.relay.refused).
	OpenRelay bool
}
