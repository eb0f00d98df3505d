package load

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxMessageSize bounds what ParseSize accepts: twice the largest message
// most servers take (the reference server's default limit is 32 MiB).
const MaxMessageSize = 64 << 20

// ParseSize reads a message size as `mailcheck load --size` takes it: a
// number of octets with an optional k or m suffix (k = 1024, m = 1024²,
// either case), "1024", "1k", "10K", "1m", or a uniform range of two,
// "1k-10k".
func ParseSize(s string) (SizeSpec, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	least, err := parseOctets(lo)
	if err != nil {
		return SizeSpec{}, err
	}
	most := least
	if isRange {
		if most, err = parseOctets(hi); err != nil {
			return SizeSpec{}, err
		}
		if most < least {
			return SizeSpec{}, fmt.Errorf("range %q is empty", s)
		}
	}
	return SizeSpec{Min: least, Max: most}, nil
}

// parseOctets reads one size of ParseSize: 1 to MaxMessageSize octets.
func parseOctets(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(strings.ToLower(s), "k"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(strings.ToLower(s), "m"):
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > MaxMessageSize/mult {
		return 0, fmt.Errorf("size %q: want a number of octets up to 64m, e.g. 1024, 1k, 10k", s)
	}
	return n * mult, nil
}
