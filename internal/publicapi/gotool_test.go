package publicapi

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// goTool finds the go command. Without it the test is skipped, except in CI
// (CI=true), where a missing toolchain is a broken job, not a reason to
// pass.
func goTool(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go not on PATH under CI: %v", err)
		}
		t.Skipf("go not on PATH: %v", err)
	}
	return gobin
}

// repoRoot is the module root, two directories above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above %s: %v", root, err)
	}
	return root
}
