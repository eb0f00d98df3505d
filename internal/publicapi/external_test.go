package publicapi

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeOutsider writes a module outside mailcheck to a new directory: its
// go.mod requires mailcheck, replaced by the repository at root; its go.sum
// is the repository's, so the build needs no network; its code is
// testdata/outsider.
func writeOutsider(t *testing.T, root string) string {
	t.Helper()
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(goMod)
	if goLine == nil {
		t.Fatal("no go directive in the repository's go.mod")
	}
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(filepath.Join("testdata", "outsider", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"go.mod": []byte("module example.com/outsider\n\n" + string(goLine) + "\n\n" +
			"require github.com/mailcheck/mailcheck v0.0.0\n\n" +
			"replace github.com/mailcheck/mailcheck => " + root + "\n"),
		"go.sum":  goSum,
		"main.go": code,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runGo runs the go command in dir offline: the module cache and build
// cache are the caller's, GOPROXY=off, and -mod=mod lets go complete the
// outsider's go.mod from mailcheck's requirements.
func runGo(t *testing.T, ctx context.Context, gobin, dir string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in the outsider module: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAnotherModuleImplementsTheBackendAndReadsReplies builds a module
// outside this one whose code implements smtpserver.Backend (it receives
// smtpaddr.Mailbox and refuses with an *smtpreply.Reply), configures a
// loginthrottle.Throttle, and reads a smtpsend reply's code, enhanced code
// and text; then it runs the program, so the replies it prints are the ones
// its backend and the server produced. Any of those APIs naming an internal
// type would fail the build: another module may not import internal/.
func TestAnotherModuleImplementsTheBackendAndReadsReplies(t *testing.T) {
	gobin := goTool(t)
	dir := writeOutsider(t, repoRoot(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	runGo(t, ctx, gobin, dir, "vet", ".")
	runGo(t, ctx, gobin, dir, "build", "-o", "outsider", ".")

	run := exec.CommandContext(ctx, filepath.Join(dir, "outsider"))
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	if err := run.Run(); err != nil {
		t.Fatalf("outsider: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Log(out)
	for _, want := range []string{
		"accepted: code=250 enhanced=2.0.0 text=",
		`refused: stage=`,
		`550 5.1.1 outsider has no mailbox nobody@example.org`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("outsider output lacks %q:\n%s", want, out)
		}
	}
}
