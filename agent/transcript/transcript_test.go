package transcript

import (
	"bytes"
	"strings"
	"testing"
)

func TestSecretsAreMasked(t *testing.T) {
	var out bytes.Buffer
	tr := New(&out, true)
	tr.Secret("s3cr\"et")
	tr.Secret(`s3cr\"et`) // the IMAP-quoted form
	tr.Secret("czNjciJldA==")
	tr.Secret("")
	tr.Line(Client, []byte("PASS s3cr\"et\r\n"))
	tr.Line(Client, []byte("T1 LOGIN \"bob\" \"s3cr\\\"et\"\r\n"))
	tr.Line(Client, []byte("czNjciJldA==\r\n"))
	tr.Data(Client, []byte("a line with s3cr\"et in message data\r\n"))
	tr.Note("password is s3cr\"et")
	got := out.String()
	for _, leak := range []string{"s3cr", "czNjciJldA=="} {
		if strings.Contains(got, leak) {
			t.Errorf("%q visible in the transcript:\n%s", leak, got)
		}
	}
	for _, want := range []string{"C: PASS ****\n", `C: T1 LOGIN "bob" "****"` + "\n", "C: ****\n", "# password is ****\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestDataIsSummarisedUnlessVerbose(t *testing.T) {
	data := []byte("Subject: x\r\n\r\n.\r\n..\r\nend\r\n")
	var quiet, verbose bytes.Buffer
	for _, tc := range []struct {
		tr  *Transcript
		out *bytes.Buffer
	}{{New(&quiet, false), &quiet}, {New(&verbose, true), &verbose}} {
		tc.tr.Line(Client, []byte("DATA\r\n"))
		tc.tr.Data(Client, data[:7])
		tc.tr.Data(Client, data[7:])
		tc.tr.EndData(Client, "message data")
		tc.tr.Line(Client, []byte(".\r\n"))
	}
	if want := "C: DATA\nC: <26 octets (5 lines) of message data>\nC: .\n"; quiet.String() != want {
		t.Errorf("summary:\n%s\nwant\n%s", quiet.String(), want)
	}
	if !strings.Contains(verbose.String(), "C: ..\n") || strings.Contains(verbose.String(), "octets") {
		t.Errorf("verbose transcript:\n%s", verbose.String())
	}
}

func TestOctetsAreEscaped(t *testing.T) {
	var out bytes.Buffer
	tr := New(&out, false)
	tr.Line(Server, []byte("* FLAGS (\\Seen)\r\n"))
	tr.Line(Server, []byte("bare\rCR and \xff\r\n"))
	tr.Line(Server, []byte("bare LF\n"))
	tr.Line(Server, []byte(`text \r, not a CR`+"\r\n"))
	// A backslash is doubled (the escaping the conformance transcripts
	// use): otherwise the text \r and a bare CR would read alike.
	want := `S: * FLAGS (\\Seen)` + "\n" + `S: bare\rCR and \xff` + "\n" + `S: bare LF\n` + "\n" + `S: text \\r, not a CR` + "\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestNilTranscriptRecordsNothing(t *testing.T) {
	var tr *Transcript
	tr.Secret("x")
	tr.Line(Client, []byte("x\r\n"))
	tr.Data(Server, []byte("x"))
	tr.EndData(Server, "data")
	tr.Note("x")
}
