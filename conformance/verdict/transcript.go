package verdict

import "time"

// Direction tells who sent a transcript line.
type Direction string

// Directions: client (the checker), server, and notes from the check.
const (
	DirClient Direction = "C"
	DirServer Direction = "S"
	DirNote   Direction = "#"
)

// Line is one line of a wire transcript.
type Line struct {
	// At is the offset from the start of the check.
	At   time.Duration `json:"-"`
	AtMS float64       `json:"at_ms"`
	Dir  Direction     `json:"dir"`
	// Text is the line without its line end, with bytes that are not
	// printable ASCII escaped Go-style (\r, \x80, …), so bare CR, bare LF
	// and 8-bit octets are visible in the evidence. A line end other than
	// CRLF is shown escaped at the end.
	Text string `json:"text"`
}
