package faultsmtp

// Faults in pipelining (RFC 2920), STARTTLS (RFC 3207) and AUTH
// (RFC 4954).

// DropPipelinedInput throws away input buffered behind each command
// (smtp.pipelining.order).
var DropPipelinedInput = &Fault{dropInput: func(*conn) bool { return true }}

// DropInputAfterError throws away input buffered behind a command that
// was refused (smtp.pipelining.after-reject).
var DropInputAfterError = &Fault{dropInput: func(c *conn) bool { return c.lastCode >= 400 }}

// STARTTLSIgnoresArguments takes STARTTLS with an argument
// (smtp.starttls.arguments): the server gets it without.
var STARTTLSIgnoresArguments = &Fault{command: func(_ *conn, cmd *command) bool {
	if cmd.is("STARTTLS") && cmd.hasArgs {
		cmd.setLine("STARTTLS")
	}
	return false
}}

// STARTTLSRunsPlaintext runs the plaintext pipelined behind STARTTLS as
// commands once TLS is up, the CVE-2011-0411 fault
// (smtp.starttls.no-injection).
var STARTTLSRunsPlaintext = &Fault{injectAfterTLS: true}

// AuthTwice takes AUTH after a successful one (smtp.auth.twice): the
// exchange goes to a new session of the server, brought to the same
// point, which has seen no AUTH.
var AuthTwice = &Fault{command: func(c *conn, cmd *command) bool {
	if !cmd.is("AUTH") || !c.authed || c.state != ready {
		return false
	}
	if cmd.err = c.reopen(); cmd.err != nil {
		return true
	}
	cmd.quit, cmd.err = c.forward(cmd)
	return true
}}

// AuthInTransaction takes AUTH inside a mail transaction
// (smtp.auth.in-transaction): the server gets the transaction reset, the
// AUTH exchange, and the transaction again.
var AuthInTransaction = &Fault{command: func(c *conn, cmd *command) bool {
	if !cmd.is("AUTH") || c.authed || c.state < mailGiven {
		return false
	}
	mail, rcpts := c.mailLine, c.rcpts
	if _, cmd.err = c.hidden("RSET"); cmd.err != nil {
		return true
	}
	if cmd.quit, cmd.err = c.forward(cmd); cmd.quit || cmd.err != nil {
		return true
	}
	for _, line := range append([]string{mail}, rcpts...) {
		if _, cmd.err = c.roundTrip(parseCommand(line)); cmd.err != nil {
			return true
		}
	}
	return true
}}
