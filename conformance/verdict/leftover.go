package verdict

// Leftover is a message the run sent and could not delete: it is still in
// (or on its way to) a mailbox the run cannot read back.
type Leftover struct {
	// Nonce is the value of its X-Mailcheck-Nonce header field, by which
	// it can be found.
	Nonce string `json:"nonce"`
	// Check is the ID of the check that sent it.
	Check string `json:"check"`
	// Via is the SMTP server it was sent through.
	Via string `json:"via"`
	// To are the recipients whose copies remain.
	To []string `json:"to"`
	// Reason says why the run could not delete it.
	Reason string `json:"reason"`
}
