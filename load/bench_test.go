package load

import (
	"context"
	"fmt"
	"testing"
)

// benchmarkLoad sends b.N messages of size octets over sessions sessions
// to an in-process sink and reports the generator's rate. The sink shares
// the CPU, so the numbers compare versions of the generator, not servers.
func benchmarkLoad(b *testing.B, pipelining Pipelining, sessions, size int) {
	k := startSink(b)
	opts := Options{
		Target: k.target(b), Sessions: sessions, Messages: int64(b.N), Pipelining: pipelining,
		Size: SizeSpec{size, size}, To: "load@example.test", StartTLS: "off",
	}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), opts, nil, nil)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Accepted != int64(b.N) || res.Failed != 0 {
		b.Fatalf("accepted %d of %d, failed %d: %+v", res.Accepted, b.N, res.Failed, res.Errors)
	}
	b.ReportMetric(float64(res.Accepted)/res.Elapsed, "msgs/s")
}

func BenchmarkLoadPipelined(b *testing.B) {
	for _, sessions := range []int{1, 10} {
		for _, size := range []int{1024, 10240} {
			b.Run(fmt.Sprintf("sessions=%d/size=%d", sessions, size), func(b *testing.B) {
				benchmarkLoad(b, PipeliningOn, sessions, size)
			})
		}
	}
}

func BenchmarkLoadNotPipelined(b *testing.B) {
	for _, sessions := range []int{1, 10} {
		for _, size := range []int{1024, 10240} {
			b.Run(fmt.Sprintf("sessions=%d/size=%d", sessions, size), func(b *testing.B) {
				benchmarkLoad(b, PipeliningOff, sessions, size)
			})
		}
	}
}
