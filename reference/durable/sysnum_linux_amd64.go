//go:build linux && amd64

package durable

// sysSyncfs is syncfs(2), which package syscall does not name.
const sysSyncfs = 306
