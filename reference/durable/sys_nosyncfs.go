//go:build !(linux && (amd64 || arm64))

package durable

import (
	"errors"
	"os"
)

// Without syncfs there is no cheap checkpoint: Open falls back to direct
// mode.
const journalSupported = false

func fdatasync(f *os.File) error { return f.Sync() }

func syncfs(*os.File) error { return errors.New("syncfs not supported") }

func openUnnamed(string) (*os.File, error) { return nil, errors.ErrUnsupported }

func linkUnnamed(*os.File, string) error { return errors.ErrUnsupported }
