package smtpserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
)

// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets with its CRLF.
const maxTextLine = 1000

// refusal is why a received message is refused. The whole message is
// always read to its end first, so the session stays in step and the next
// transaction starts clean.
type refusal int

const (
	refusedNot refusal = iota
	refusedTooBig
	refusedBareLineEnd
	refusedLongLine
	refused8Bit
	refusedNUL
)

// cmdData handles DATA (RFC 5321 §4.1.1.4): 354, the message up to
// CRLF.CRLF, then one reply for the whole transaction.
func (s *session) cmdData(hasArgs bool) {
	switch {
	case hasArgs:
		s.reply(501, "5.5.4", "Syntax: DATA (no arguments)")
		return
	case s.state < stateMail:
		s.reply(503, "5.5.1", "Bad sequence of commands: need MAIL and RCPT before DATA")
		return
	case s.state < stateRcpt:
		// RFC 5321 §3.3: no accepted recipient, so no 354.
		s.reply(503, "5.5.1", "Bad sequence of commands: no valid recipients")
		return
	}
	s.w.WriteString("354 End data with <CR><LF>.<CR><LF>\r\n")
	s.data.Reset()
	refused, err := readData(s.r, &s.data, s.srv.opts.MaxMessageBytes, s.body8BitMIME, s.srv.opts.MaxTextLine)
	if err != nil {
		s.endOnReadError(err)
		s.conn.Close()
		s.resetTransaction()
		return
	}
	defer s.resetTransaction()
	switch refused {
	case refusedTooBig:
		s.reply(552, "5.3.4", "Message size exceeds fixed maximum message size (%d octets)", s.srv.opts.MaxMessageBytes)
		return
	case refusedBareLineEnd:
		// Bare CR or LF lets a message end where another server sees no
		// end: the SMTP smuggling attack. Refuse the message.
		s.reply(554, "5.6.0", "Message refused: bare CR or LF in DATA; lines must end with CRLF (RFC 5321 section 2.3.8)")
		return
	case refusedLongLine:
		s.reply(554, "5.6.0", "Message refused: text line longer than %d octets (RFC 5321 section 4.5.3.1.6)", s.srv.opts.MaxTextLine)
		return
	case refusedNUL:
		// RFC 2045 §2.7 and §2.8: neither 7bit nor 8bit data holds NUL, and
		// IMAP could not send it back in a literal (RFC 9051 §4.3).
		s.reply(554, "5.6.0", "Message refused: NUL octet in DATA (RFC 2045 section 2.7, section 2.8)")
		return
	case refused8Bit:
		// RFC 5321 §2.4 and RFC 6152 §3: 8-bit octets need BODY=8BITMIME;
		// refuse rather than alter the message.
		s.reply(554, "5.6.1", "Message refused: 8-bit octets without BODY=8BITMIME (RFC 6152)")
		return
	}
	env := &Envelope{Conn: s.info, From: s.from, Recipients: append([]string(nil), s.rcpts...), Body8BitMIME: s.body8BitMIME}
	s.messages++
	id := fmt.Sprintf("%s.%d", s.info.ID, s.messages)
	header := s.receivedHeader(id)
	if err := s.srv.backend.Deliver(s.ctx, env, [][]byte{header, s.data.Bytes()}); err != nil {
		s.replyDeliveryError(err)
		return
	}
	s.log.Info("message accepted", "id", id, "from", env.From, "rcpts", len(env.Recipients), "octets", len(header)+s.data.Len())
	s.reply(250, "2.0.0", "OK: queued as %s", id)
}

// readData reads DATA content from r into buf until the line ".\r\n",
// removing one leading dot from every other line (RFC 5321 §4.5.2). Only
// CRLF "." CRLF ends the data: a "." line ended by a bare LF does not. It
// returns why the message is refused (refusedNot: it is not), the first
// reason found; an error means the connection failed. lineLimit is the
// longest text line taken, CRLF included.
func readData(r *bufio.Reader, buf *bytes.Buffer, max int64, allow8Bit bool, lineLimit int) (refusal, error) {
	refused := refusedNot
	refuse := func(why refusal) {
		if refused == refusedNot {
			refused = why
		}
	}
	atLineStart := true
	lineLen := 0
	// prevCR: the previous chunk, part of a line over the buffer, ended in
	// CR, so a chunk of just LF completes a CRLF.
	prevCR := false
	for {
		chunk, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return refused, err
		}
		complete := err == nil
		if atLineStart && complete && len(chunk) == 3 && chunk[0] == '.' && chunk[1] == '\r' {
			return refused, nil
		}
		content := chunk
		if atLineStart && len(content) > 0 && content[0] == '.' {
			content = content[1:]
		}
		// RFC 5321 §4.5.3.1.6: the limit does not count the leading dot
		// duplicated for transparency.
		lineLen += len(content)
		if lineLen > lineLimit {
			refuse(refusedLongLine)
		}
		// A CR must be followed by LF and an LF preceded by CR.
		body := content
		if complete {
			if len(body) < 2 || body[len(body)-2] != '\r' {
				refuse(refusedBareLineEnd)
				body = body[:len(body)-1]
			} else {
				body = body[:len(body)-2]
			}
		}
		// A chunk that is not a whole line is part of a line over 16 KiB,
		// already refused as too long; a CR split from its LF there does
		// not change the verdict.
		if bytes.IndexByte(body, '\r') >= 0 {
			refuse(refusedBareLineEnd)
		}
		if bytes.IndexByte(body, 0) >= 0 {
			refuse(refusedNUL)
		}
		if !allow8Bit && !isASCII(body) {
			refuse(refused8Bit)
		}
		if int64(buf.Len()+len(content)) > max {
			refuse(refusedTooBig)
		}
		if refused != refusedTooBig {
			buf.Write(content)
		}
		// RFC 5321 §2.3.8: only CRLF ends a line, so only after CRLF may
		// "." CRLF end the data. Ending it after a bare LF ("\n.\r\n")
		// would run the bytes after it as commands: SMTP smuggling.
		endsInCRLF := complete && (len(chunk) >= 2 && chunk[len(chunk)-2] == '\r' || len(chunk) == 1 && prevCR)
		atLineStart = endsInCRLF
		prevCR = chunk[len(chunk)-1] == '\r'
		if complete {
			lineLen = 0
		}
	}
}
