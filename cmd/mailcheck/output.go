package main

import (
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mailcheck/mailcheck/target"
)

// output is a file a command writes when its flag gives a path.
type output struct {
	path  string
	write func(io.Writer) error
}

// writeOutputs writes each output whose path is given; a failure is exit 2.
func writeOutputs(outputs []output) error {
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		if err := writeFileWith(o.path, o.write); err != nil {
			return exitError{exitCannotRun, err}
		}
	}
	return nil
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isTerminal reports whether w is a terminal (for colour).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// clientTLS is the client TLS configuration of --tls-skip-verify and --ca
// (nil when neither is given); a bad --ca is a usage error.
func clientTLS(skipVerify bool, caFile string) (*tls.Config, error) {
	cfg, err := target.ClientTLS(skipVerify, caFile)
	if err != nil {
		return nil, usageError{fmt.Errorf("--ca: %w", err)}
	}
	return cfg, nil
}

// createEarly creates the files of a long run's outputs before it starts
// (nil for a path not given), so that a bad path fails at once rather than
// after it; on a failure none is left behind.
func createEarly(paths ...string) ([]*os.File, error) {
	files := make([]*os.File, len(paths))
	for i, path := range paths {
		if path == "" {
			continue
		}
		f, err := os.Create(path)
		if err != nil {
			abandon(files)
			return nil, err
		}
		files[i] = f
	}
	return files, nil
}

// abandon closes and removes the files nothing was written to.
func abandon(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// finish writes each file created early with its writer and closes it.
func finish(files []*os.File, writes ...func(io.Writer) error) error {
	var err error
	for i, f := range files {
		if f != nil {
			err = errors.Join(err, writes[i](f), f.Close())
		}
	}
	return err
}

// flagValue is a flag that a library function parses as it is set (set),
// so that a bad value is a usage error naming the flag; text is the value
// given, or the default.
type flagValue struct {
	text, typ string
	set       func(string) error
}

func (v *flagValue) String() string { return v.text }
func (v *flagValue) Type() string   { return v.typ }

func (v *flagValue) Set(s string) error {
	if err := v.set(s); err != nil {
		return err
	}
	v.text = s
	return nil
}

// helpFiles hold the commands' help: help/NAME.txt is the long
// description of command NAME, help/NAME.example.txt its examples. Prose
// is kept as text, where it reads and diffs as it prints (and may hold
// backquotes, which a Go raw string cannot).
//
//go:embed help
var helpFiles embed.FS

// helpText returns help/NAME.txt without its final line end.
func helpText(name string) string {
	b, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic(err) // a command without its help file: caught by every test
	}
	return strings.TrimSuffix(string(b), "\n")
}
