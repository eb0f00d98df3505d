package smtpserver

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets with its CRLF.
const maxTextLine = 1000

// dataFault is why a received message is refused. The whole message is
// always read to its end first, so the session stays in step and the next
// transaction starts clean.
type dataFault int

const (
	dataOK dataFault = iota
	dataTooBig
	dataBareLineEnd
	dataLongLine
	data8Bit
	dataNUL
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
	case s.state < stateRcpt && !s.faults().DataWithoutRcpt:
		// RFC 5321 §3.3: no accepted recipient, so no 354.
		s.reply(503, "5.5.1", "Bad sequence of commands: no valid recipients")
		return
	}
	s.w.WriteString("354 End data with <CR><LF>.<CR><LF>\r\n")
	s.data.Reset()
	src := s.r
	if also := s.faults().EndOfData; also != "" {
		raw, err := readUntilEndOfData(s.r, also, s.srv.opts.MaxMessageBytes)
		if err != nil {
			s.endOnReadError(err)
			s.conn.Close()
			s.resetTransaction()
			return
		}
		src = bufio.NewReader(bytes.NewReader(raw))
	}
	fault, err := readData(src, &s.data, s.srv.opts.MaxMessageBytes, s.body8BitMIME, s.faults())
	if err != nil {
		s.endOnReadError(err)
		s.conn.Close()
		s.resetTransaction()
		return
	}
	defer s.resetTransaction()
	switch fault {
	case dataTooBig:
		s.reply(552, "5.3.4", "Message size exceeds fixed maximum message size (%d octets)", s.srv.opts.MaxMessageBytes)
		return
	case dataBareLineEnd:
		// Bare CR or LF lets a message end where another server sees no
		// end: the SMTP smuggling attack. Refuse the message.
		s.reply(554, "5.6.0", "Message refused: bare CR or LF in DATA; lines must end with CRLF (RFC 5321 section 2.3.8)")
		return
	case dataLongLine:
		s.reply(554, "5.6.0", "Message refused: text line longer than %d octets (RFC 5321 section 4.5.3.1.6)", textLimit(s.faults()))
		return
	case dataNUL:
		// RFC 2045 §2.7 and §2.8: neither 7bit nor 8bit data holds NUL, and
		// IMAP could not send it back in a literal (RFC 9051 §4.3).
		s.reply(554, "5.6.0", "Message refused: NUL octet in DATA (RFC 2045 section 2.7, section 2.8)")
		return
	case data8Bit:
		// RFC 5321 §2.4 and RFC 6152 §3: 8-bit octets need BODY=8BITMIME;
		// refuse rather than alter the message.
		s.reply(554, "5.6.1", "Message refused: 8-bit octets without BODY=8BITMIME (RFC 6152)")
		return
	}
	env := &Envelope{Conn: s.info, From: s.from, Recipients: append([]string(nil), s.rcpts...), Body8BitMIME: s.body8BitMIME}
	s.messages++
	id := fmt.Sprintf("%s.%d", s.info.ID, s.messages)
	header := s.receivedHeader(id)
	if s.faults().NoReceivedHeader {
		header = nil
	}
	if len(env.Recipients) == 0 {
		// Only with the DataWithoutRcpt fault: nowhere to deliver.
		s.reply(250, "2.0.0", "OK: queued as %s", id)
		return
	}
	if d := s.faults().DeliverAfter; d > 0 {
		s.deliverLater(d, env, [][]byte{header, bytes.Clone(s.data.Bytes())})
		s.reply(250, "2.0.0", "OK: queued as %s", id)
		return
	}
	if err := s.srv.backend.Deliver(s.ctx, env, [][]byte{header, s.data.Bytes()}); err != nil {
		s.replyDeliveryError(err)
		return
	}
	s.log.Info("message accepted", "id", id, "from", env.From, "rcpts", len(env.Recipients), "octets", len(header)+s.data.Len())
	s.reply(250, "2.0.0", "OK: queued as %s", id)
}

// deliverLater delivers the message after d (the DeliverAfter fault).
func (s *session) deliverLater(d time.Duration, env *Envelope, message [][]byte) {
	ctx := context.WithoutCancel(s.ctx)
	time.AfterFunc(d, func() {
		if err := s.srv.backend.Deliver(ctx, env, message); err != nil {
			s.log.Warn("late delivery failed", "err", err)
		}
	})
}

// readData reads DATA content from r into buf until the line ".\r\n",
// removing one leading dot from every other line (RFC 5321 §4.5.2). Only
// CRLF "." CRLF ends the data: a "." line ended by a bare LF does not. It
// returns the first fault found; an error means the connection failed.
// f, when not nil, injects faults for tests.
func readData(r *bufio.Reader, buf *bytes.Buffer, max int64, allow8Bit bool, f *Faults) (dataFault, error) {
	if f == nil {
		f = &Faults{}
	}
	lineLimit := textLimit(f)
	fault := dataOK
	setFault := func(f dataFault) {
		if fault == dataOK {
			fault = f
		}
	}
	atLineStart := true
	inHeader := true
	lineLen := 0
	// prevCR: the previous chunk, part of a line over the buffer, ended in
	// CR, so a chunk of just LF completes a CRLF.
	prevCR := false
	for {
		chunk, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return fault, err
		}
		complete := err == nil
		if atLineStart && complete && len(chunk) == 3 && chunk[0] == '.' && chunk[1] == '\r' {
			return fault, nil
		}
		if atLineStart && len(chunk) > 0 && chunk[0] == '.' && (f.DotLineEndsData || f.BareLFEndsData && string(chunk) == ".\n") {
			return fault, nil
		}
		content := chunk
		if atLineStart && len(content) > 0 && content[0] == '.' && !f.KeepStuffedDots {
			content = content[1:]
		}
		// RFC 5321 §4.5.3.1.6: the limit does not count the leading dot
		// duplicated for transparency.
		before := lineLen
		lineLen += len(content)
		if lineLen > lineLimit && !f.acceptsLongLine(inHeader) {
			setFault(dataLongLine)
		}
		// A CR must be followed by LF and an LF preceded by CR.
		body := content
		if complete {
			if len(body) < 2 || body[len(body)-2] != '\r' {
				if !f.BareLFEndsData {
					setFault(dataBareLineEnd)
				}
				body = body[:len(body)-1]
			} else {
				body = body[:len(body)-2]
			}
		}
		// A chunk that is not a whole line is part of a line over 16 KiB,
		// already refused as too long; a CR split from its LF there does
		// not change the verdict.
		if bytes.IndexByte(body, '\r') >= 0 {
			setFault(dataBareLineEnd)
		}
		if bytes.IndexByte(body, 0) >= 0 {
			setFault(dataNUL)
		}
		if !allow8Bit && !isASCII(body) && !f.StripHighBit {
			setFault(data8Bit)
		}
		if int64(buf.Len()+len(content)) > max {
			setFault(dataTooBig)
		}
		if fault != dataTooBig {
			start := buf.Len()
			buf.Write(f.alterLine(content, atLineStart, before, complete, inHeader))
			if f.StripHighBit {
				for i, b := range buf.Bytes()[start:] {
					buf.Bytes()[start+i] = b & 0x7f
				}
			}
		}
		// RFC 5321 §2.3.8: only CRLF ends a line, so only after CRLF may
		// "." CRLF end the data. Ending it after a bare LF ("\n.\r\n")
		// would run the bytes after it as commands: SMTP smuggling.
		endsInCRLF := complete && (len(chunk) >= 2 && chunk[len(chunk)-2] == '\r' || len(chunk) == 1 && prevCR)
		atLineStart = endsInCRLF || complete && (f.BareLFEndsData || f.LFStartsLine)
		prevCR = chunk[len(chunk)-1] == '\r'
		if complete {
			inHeader = inHeader && lineLen > 2
			lineLen = 0
		}
	}
}

// readUntilEndOfData is the EndOfData fault: it reads DATA up to
// CRLF.CRLF or up to the sequence also, whichever comes first, and returns
// the octets read, ending in CRLF.CRLF either way, for readData to judge.
// A sequence that ends inside the real end ("\r\n.\r", "\n.\r") ends DATA
// only when the rest of the real end is not waiting to complete it. It
// holds at most max octets.
func readUntilEndOfData(r *bufio.Reader, also string, max int64) ([]byte, error) {
	const end = "\r\n.\r\n"
	raw := []byte("\r\n") // DATA begins at the start of a line
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		raw = append(raw, b)
		if int64(len(raw)) > max+int64(len(end)) {
			return nil, errors.New("message over the size limit (EndOfData fault)")
		}
		switch {
		case bytes.HasSuffix(raw, []byte(end)):
			return raw[2:], nil
		case bytes.HasSuffix(raw, []byte(also)) && !realEndFollows(r, raw, also, end):
			return append(raw[2:], end...), nil
		}
	}
}

// realEndFollows reports whether raw, which ends in also, ends in a start
// of the real end of data that holds all of also and whose next octet is
// already buffered.
func realEndFollows(r *bufio.Reader, raw []byte, also, end string) bool {
	if r.Buffered() == 0 {
		return false
	}
	next, _ := r.Peek(1)
	for k := len(end) - 1; k >= len(also); k-- {
		if bytes.HasSuffix(raw, []byte(end[:k])) && next[0] == end[k] {
			return true
		}
	}
	return false
}

func textLimit(f *Faults) int { return cmp.Or(f.MaxTextLine, maxTextLine) }
