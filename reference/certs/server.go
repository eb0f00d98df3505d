package certs

import (
	"crypto/tls"
	"errors"
	"os"
)

// ErrHalfPair is ForServer's error for a certificate without its key or a
// key without its certificate.
var ErrHalfPair = errors.New("a certificate and its key go together")

// ForServer is a server's TLS configuration: the PEM certificate chain
// and key of certFile and keyFile (Load), or, given neither, a
// self-signed certificate for hostname (this host's name when "").
func ForServer(certFile, keyFile, hostname string) (*tls.Config, error) {
	switch {
	case certFile != "" && keyFile != "":
		return Load(certFile, keyFile)
	case certFile != "" || keyFile != "":
		return nil, ErrHalfPair
	}
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	return SelfSigned(hostname)
}
