package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgressEnd: ending a bar twice (an error path, then a deferred end)
// finishes its line once, and a bar shown again after an end redraws.
func TestProgressEnd(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		steps    func(p *progress)
		want     string
	}{
		{"terminal, ended twice", true, func(p *progress) { p.show(1, 2, 0); p.end(); p.end() },
			"\r[###############               ] jobs: 1/2 done\n"},
		{"terminal, shown again after an end", true, func(p *progress) { p.show(1, 2, 0); p.end(); p.show(1, 2, 0); p.end() },
			strings.Repeat("\r[###############               ] jobs: 1/2 done\n", 2)},
		{"terminal, never shown", true, func(p *progress) { p.end() }, ""},
		{"a log", false, func(p *progress) { p.show(1, 2, 0); p.show(1, 2, 0); p.show(2, 2, 1); p.end(); p.end() },
			"jobs: 1/2 done\njobs: 2/2 done, 1 failed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &progress{out: &out, terminal: tt.terminal}
			tt.steps(p)
			if out.String() != tt.want {
				t.Errorf("printed %q, want %q", out.String(), tt.want)
			}
		})
	}
}
