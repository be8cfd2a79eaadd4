package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The figures of bic dev, as benchmarks (the machine is shared, so no
// test asserts a time):
//
//	BIC_TEST_CHROME=/usr/bin/chromium go test -run '^$' -bench Dev -benchtime 3x ./cmd/bic
//
// BenchmarkDevStart: from `bic dev` on a copy of examples/shop to every
// dashboard served with data and thumbnails (its first apply live), cold
// (no .bic/) and warm (the .bic/ a first start left). BenchmarkDevChange:
// from saving a one-chart change (a chart's title) to the open page in
// headless Chromium showing it (ms-to-title) and having drawn every chart
// again (ns/op), with and without thumbnails.

func BenchmarkDevStart(b *testing.B) {
	devBenchEnv(b)
	for _, warm := range []bool{false, true} {
		name := "cold"
		if warm {
			name = "warm"
		}
		b.Run(name, func(b *testing.B) {
			dir := ""
			if warm {
				dir = benchShop(b)
				startDev(b, dir).stop()
			}
			b.ResetTimer()
			for range b.N {
				if !warm {
					b.StopTimer()
					dir = benchShop(b)
					b.StartTimer()
				}
				d := startDev(b, dir)
				b.StopTimer()
				if !strings.Contains(d.out.String(), "is live") {
					b.Fatalf("bic dev started without a live revision:\n%s", d.out.String())
				}
				d.stop()
				b.StartTimer()
			}
		})
	}
}

func BenchmarkDevChange(b *testing.B) {
	chrome := os.Getenv("BIC_TEST_CHROME")
	if chrome == "" {
		b.Skip("BIC_TEST_CHROME is not set: no browser to see the change in")
	}
	// With thumbnails, a revision's publish waits for the changed
	// dashboard's pictures; BIC_THUMBNAILS=off draws none.
	for _, thumbs := range []string{"thumbnails", "no-thumbnails"} {
		b.Run(thumbs, func(b *testing.B) {
			if thumbs == "no-thumbnails" {
				b.Setenv("BIC_THUMBNAILS", "off")
			}
			benchDevChange(b, chrome)
		})
	}
}

func benchDevChange(b *testing.B, chrome string) {
	devBenchEnv(b)
	dir := benchShop(b)
	d := startDev(b, dir)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	poll := func(js string) {
		b.Helper()
		for {
			pctx, cancel := context.WithTimeout(ctx, devTimeout)
			_, err := chromedp.Run(pctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(5*time.Millisecond)))
			cancel()
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), "context") && !strings.Contains(err.Error(), "navigated") {
				b.Fatalf("waiting for %s: %v", js, err)
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(d.base+"/e/dev/d/sales")); err != nil {
		b.Fatal(err)
	}
	poll(`document.body.dataset.bicLive === 'open'`)
	sales := filepath.Join(dir, "dashboards", "sales.yaml")
	titles := []string{"Revenue this month", "Revenue so far this month"}
	var toTitle time.Duration
	b.ResetTimer()
	for i := range b.N {
		from, to := titles[i%2], titles[(i+1)%2]
		src, err := os.ReadFile(sales)
		if err != nil {
			b.Fatal(err)
		}
		saved := time.Now()
		if err := os.WriteFile(sales, []byte(strings.Replace(string(src), "title: "+from, "title: "+to, 1)), 0o644); err != nil {
			b.Fatal(err)
		}
		// The new title shows as soon as the new page is parsed; its
		// charts are drawn once bic.js says so.
		poll(`document.querySelector('#chart-revenue h2').textContent === '` + to + `'`)
		toTitle += time.Since(saved)
		poll(`document.body.dataset.bicRendered === 'true'`)
		b.StopTimer()
		poll(`document.body.dataset.bicLive === 'open'`)
		b.StartTimer()
	}
	b.ReportMetric(float64(toTitle.Milliseconds())/float64(b.N), "ms-to-title/op")
}

func devBenchEnv(b *testing.B) {
	b.Setenv("BIC_METADATA_URL", "")
	b.Setenv("BIC_STORAGE_URL", "")
	b.Setenv("BIC_NATS_URL", "")
}

// benchShop copies examples/shop (without .bic/ and its generator) into a
// new folder.
func benchShop(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	src := "../../examples/shop"
	err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			if e.Name() == ".bic" || e.Name() == "gen" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	return dir
}
