package smtpwire

import (
	"bytes"
	"testing"
)

// The streaming stuffer must produce what AppendDotStuffed does
// for the whole message, however the message is split into writes.
func TestDotStufferMatchesAppendDotStuffed(t *testing.T) {
	messages := []string{
		"",
		".\r\n",
		"..\r\n",
		".x\r\n",
		"a\r\n.\r\n..\r\n.x\r\nx.\r\n",
		"no final line end",
		"ends in CR\r",
		".starts with a dot",
		"bare\nLF\n.dot\n",
	}
	for _, msg := range messages {
		want := AppendDotStuffed(nil, []byte(msg))
		for split := 0; split <= len(msg); split++ {
			var got bytes.Buffer
			d := NewDotWriter(&got)
			d.Write([]byte(msg[:split]))
			d.Write([]byte(msg[split:]))
			d.Close()
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%q split at %d: got %q, want %q", msg, split, got.Bytes(), want)
			}
		}
	}
}
