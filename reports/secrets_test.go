package reports

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/conformance"
	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/internal/faultimap"
	"github.com/mailcheck/mailcheck/internal/faultpop3"
	"github.com/mailcheck/mailcheck/internal/faultsmtp"
	"github.com/mailcheck/mailcheck/reference"
)

// TestNoSecretInAnyOutput runs every suite against the embedded reference
// server, whose password is known, renders the result in every format CI
// keeps (text, JSON, JUnit, HTML) and looks for the password in each, as
// typed and in the base64 forms SASL sends it in. A second run breaks the
// server so that checks that logged in fail: text and JUnit show the
// transcripts and messages of failures only, and those must not show the
// credentials either.
func TestNoSecretInAnyOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole catalogue twice")
	}
	user, pass := reference.LoopbackUser, reference.LoopbackPassword
	secrets := map[string]string{
		"the password":                        pass,
		"base64 of the password (AUTH LOGIN)": base64.StdEncoding.EncodeToString([]byte(pass)),
		"AUTH PLAIN \\0user\\0pass":           base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass)),
		"AUTH PLAIN user\\0user\\0pass":       base64.StdEncoding.EncodeToString([]byte(user + "\x00" + user + "\x00" + pass)),
	}
	runs := map[string]func(*reference.Config){
		"reference": nil,
		// Checks that logged in fail: their messages and transcripts show
		// in text and JUnit too.
		"faulty": func(c *reference.Config) {
			// smtp.auth.success quotes its AUTH PLAIN.
			faultsmtp.Join(faultsmtp.AuthRefusesAll, faultsmtp.AuthTwice).Configure(c)
			faultpop3.NOOPErr.Configure(c)
			faultimap.StatusCountOffByOne.Install(&c.IMAP)
		},
	}
	for name, configure := range runs {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			report, err := conformance.RunEmbedded(ctx, conformance.Options{}, configure)
			if err != nil {
				t.Fatal(err)
			}
			if configure != nil && !report.Failed(verdict.FailOnMust) {
				t.Fatal("the faulty server failed nothing: the text and JUnit outputs would show no transcript")
			}
			for format, out := range renderAll(t, report) {
				for what, secret := range secrets {
					if i := strings.Index(out, secret); i >= 0 {
						t.Errorf("%s output shows %s (%q): …%s…", format, what, secret, out[max(0, i-80):min(len(out), i+len(secret)+20)])
					}
				}
			}
		})
	}
}

// renderAll renders the report in every output format.
func renderAll(t *testing.T, r *verdict.Report) map[string]string {
	t.Helper()
	var text, verbose, js, junit, html bytes.Buffer
	for _, err := range []error{
		WriteText(&text, r, TextOptions{TranscriptLines: 1000}),
		WriteText(&verbose, r, TextOptions{Verbose: true, TranscriptLines: 1000}),
		WriteJSON(&js, r),
		WriteJUnit(&junit, r),
		WriteHTML(&html, []Run{{Conformance: r}}, HTMLOptions{Tool: "test"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{"text": text.String(), "verbose text": verbose.String(), "JSON": js.String(), "JUnit": junit.String(), "HTML": html.String()}
}
