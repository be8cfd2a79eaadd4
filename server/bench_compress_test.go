package server

import (
	"fmt"
	"os"
	"testing"
)

// BenchmarkCompress compresses the largest asset pages load (ECharts,
// 1 MB) the way the server does on its first request for it, in each
// coding, and reports the size: what chose brotliQuality.
func BenchmarkCompress(b *testing.B) {
	data, err := os.ReadFile("../publish/site/assets/echarts.min.js")
	if err != nil {
		b.Fatal(err)
	}
	for _, enc := range []string{encGzip, encBrotli} {
		b.Run(fmt.Sprintf("%s/%dKB", enc, len(data)>>10), func(b *testing.B) {
			var n int
			for b.Loop() {
				e := newBlobEntry("blobs/00/"+fmt.Sprintf("%062d", 0), data)
				n = len(e.compress(enc))
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}
