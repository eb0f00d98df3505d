package load

import "testing"

func TestGeneratorProcs(t *testing.T) {
	cases := []struct {
		spec, addr string
		embedded   bool
		envSet     bool
		cpus       int
		want       int
		bad        bool
	}{
		{spec: "auto", addr: "127.0.0.1:25", cpus: 2, want: 1},
		{spec: "auto", addr: "[::1]:25", cpus: 8, want: 4},
		{spec: "auto", addr: "localhost:25", cpus: 1, want: 1},
		{spec: "auto", addr: "mx.localhost:25", cpus: 4, want: 2},
		{spec: "auto", addr: "127.0.0.1:25", cpus: 2, envSet: true, want: 0},
		{spec: "auto", addr: "127.0.0.1:25", cpus: 2, embedded: true, want: 0},
		{spec: "auto", addr: "192.0.2.1:25", cpus: 2, want: 0},
		{spec: "auto", addr: "mx.example.org:25", cpus: 2, want: 0},
		{spec: "3", addr: "192.0.2.1:25", cpus: 2, want: 3},
		{spec: "1", addr: "127.0.0.1:25", embedded: true, cpus: 2, want: 1},
		{spec: "0", bad: true},
		{spec: "-1", bad: true},
		{spec: "half", bad: true},
	}
	for _, c := range cases {
		got, err := GeneratorProcs(c.spec, c.addr, c.embedded, c.envSet, c.cpus)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("GeneratorProcs(%q, %q, embedded=%v, env=%v, cpus=%d) = %d, %v; want %d, error %v",
				c.spec, c.addr, c.embedded, c.envSet, c.cpus, got, err, c.want, c.bad)
		}
	}
}
