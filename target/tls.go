package target

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// ClientTLS is the client TLS configuration that verifies a target as
// asked: no verification at all (skipVerify), or against the CA
// certificates of the PEM file caFile rather than the system's roots. It
// is nil, the system's defaults, when neither is asked for.
func ClientTLS(skipVerify bool, caFile string) (*tls.Config, error) {
	if !skipVerify && caFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: skipVerify}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificates", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
