package fetch

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// SaveEML writes data, byte for byte, to DIR/<FileName>.eml and returns
// the path. The file appears complete or not at all (written beside it,
// synced, renamed, the directory synced), so a message deleted from the
// server after SaveEML returns is on disk.
func SaveEML(dir string, m Message, data []byte) (string, error) {
	path := filepath.Join(dir, m.FileName+".eml")
	f, err := os.CreateTemp(dir, ".fetch-*.tmp")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return "", err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return "", fmt.Errorf("syncing %s: %w", dir, err)
	}
	return path, nil
}

// WriteMbox writes one message of an mboxrd stream (the mbox family's
// reversible variant): a "From " separator line, the message with every
// line that starts with ">"s and "From " given one more ">", a line end
// at its end if it has none, and an empty line. Several messages on
// standard output are told apart this way; .eml files are byte-exact.
func WriteMbox(w io.Writer, data []byte, at time.Time) error {
	var b bytes.Buffer
	b.WriteString("From mailcheck " + at.UTC().Format(time.ANSIC) + "\r\n")
	for line := range bytes.Lines(data) {
		if isFromLine(line) {
			b.WriteByte('>')
		}
		b.Write(line)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	_, err := w.Write(b.Bytes())
	return err
}

// isFromLine reports a line of the form ">*From ".
func isFromLine(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}
