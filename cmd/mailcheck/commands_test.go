package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/internal/smtptest"
)

func runCommand(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestEveryCommandHasExamples(t *testing.T) {
	for _, c := range newRootCommand().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s --help has no examples", c.Name())
		}
	}
}

func TestVersion(t *testing.T) {
	out, err := runCommand(t, "", "version")
	if err != nil || !strings.HasPrefix(out, "mailcheck ") {
		t.Errorf("version: %q %v", out, err)
	}
}

func TestHashPassword(t *testing.T) {
	out, err := runCommand(t, "s3cret\n", "hash-password", "alice")
	if err != nil || !strings.HasPrefix(out, "alice:pbkdf2-sha256$") || strings.Contains(out, "s3cret") {
		t.Errorf("hash-password: %q %v", out, err)
	}
	if _, err := runCommand(t, "", "hash-password", "alice"); err == nil {
		t.Error("empty password accepted")
	}
	if _, err := runCommand(t, "pw\n", "hash-password", "Bad/Name"); err == nil {
		t.Error("invalid name accepted")
	}
}

func TestServeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--user", "nopassword"},
		{"serve", "--route", "example.net"},
		{"serve", "--domain", "bad_domain"},
		{"serve", "--tls-cert", "x.pem"},
		{"serve", "--log-level", "loud"},
		{"serve", "--no-such-flag"},
	} {
		_, err := runCommand(t, "", args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%v: got %v, want a usage error (exit 2)", args, err)
		}
	}
}

func exitCode(err error) int {
	var e exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &e):
		return e.code
	default:
		return exitCannotRun
	}
}

func TestConformExitCodes(t *testing.T) {
	fake := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING"}})
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"embedded reference passes", []string{"conform", "--only", "smtp.data.*"}, exitOK},
		{"SHOULD not met, fail-on must", []string{"conform", "smtp://" + fake.Addr(), "--only", "smtp.command.unknown"}, exitOK},
		{"SHOULD not met, fail-on should", []string{"conform", "smtp://" + fake.Addr(), "--only", "smtp.command.unknown", "--fail-on", "should"}, exitFailure},
		{"MUST not met", []string{"conform", "smtp://" + fake.Addr(), "--only", "smtp.sequence.rcpt-before-mail"}, exitFailure},
		{"nothing listening", []string{"conform", "smtp://127.0.0.1:1"}, exitCannotRun},
		{"protocol not known from the port", []string{"conform", "127.0.0.1:2600"}, exitCannotRun},
		{"bad --fail-on", []string{"conform", "--fail-on", "may"}, exitCannotRun},
		{"bad --readback", []string{"conform", "--readback", "smtp://x:25"}, exitCannotRun},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCommand(t, "", tc.args...)
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit %d, want %d (err %v)\n%s", got, tc.code, err, out)
			}
		})
	}
}

func TestConformOutputs(t *testing.T) {
	dir := t.TempDir()
	out, err := runCommand(t, "", "conform", "--only", "smtp.noop.ok", "--json", dir+"/r.json", "--junit", dir+"/j.xml", "-v")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "PASS smtp.noop.ok") {
		t.Errorf("text output:\n%s", out)
	}
	for _, f := range []string{"r.json", "j.xml"} {
		data, err := os.ReadFile(dir + "/" + f)
		if err != nil || !strings.Contains(string(data), "smtp.noop.ok") {
			t.Errorf("%s: %v %q", f, err, data)
		}
	}
	list, _ := runCommand(t, "", "conform", "--list")
	if !strings.Contains(list, "smtp.data.bare-lf-dot") || !strings.Contains(list, "RFC 5321") {
		t.Errorf("--list:\n%s", list)
	}
}
