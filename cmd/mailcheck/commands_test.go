package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
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
