package main

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Defaults of the watcher: a project's files are polled (a stat of each,
// no reading) every watchInterval, and a change is reported once nothing
// more changed for watchQuiet, so that an editor's save (a write, or a
// temporary file renamed over the old one) or a git checkout is one
// change.
const (
	watchInterval = 50 * time.Millisecond
	watchQuiet    = 50 * time.Millisecond
	// watchMaxFiles bounds what one scan looks at; past it the rest of the
	// tree is not watched (and the watcher says so once).
	watchMaxFiles = 20000
)

// stamp is what a scan notes of a file: a change of any part is a change.
type stamp struct {
	size  int64
	mtime time.Time
	mode  fs.FileMode
}

// watcher polls a project folder for changes. It skips hidden files and
// folders (.bic/, where bic dev writes, .git/, editors' swap files) and
// backup files ending in ~. Polling needs no operating-system support and
// is bounded: a scan stats at most MaxFiles entries, and the pause between
// scans grows with the time a scan takes, so that a huge tree costs at
// most a tenth of a core.
type watcher struct {
	Root     string
	Interval time.Duration // 0: watchInterval
	Quiet    time.Duration // 0: watchQuiet
	MaxFiles int           // 0: watchMaxFiles
	// Truncated is called once when a scan stops at MaxFiles.
	Truncated func(n int)

	warned bool
}

// skipName reports whether a file or folder of this name is not watched.
func skipName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~")
}

// scan notes every watched file under the root, by its slash path
// relative to the root.
func (w *watcher) scan() map[string]stamp {
	max := w.MaxFiles
	if max <= 0 {
		max = watchMaxFiles
	}
	files := map[string]stamp{}
	n := 0
	_ = filepath.WalkDir(w.Root, func(path string, d fs.DirEntry, err error) error {
		if path == w.Root {
			return err
		}
		if err != nil {
			// Gone between listing and stat, or unreadable: not there.
			return nil
		}
		if skipName(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		n++
		if n > max {
			if !w.warned && w.Truncated != nil {
				w.warned = true
				w.Truncated(max)
			}
			return filepath.SkipAll
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(w.Root, path)
		if err != nil {
			return nil
		}
		files[filepath.ToSlash(rel)] = stamp{size: info.Size(), mtime: info.ModTime(), mode: info.Mode()}
		return nil
	})
	return files
}

// diff is the sorted paths that differ between two scans.
func diff(before, after map[string]stamp) []string {
	var changed []string
	for p, s := range after {
		if b, ok := before[p]; !ok || b != s {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			changed = append(changed, p)
		}
	}
	slices.Sort(changed)
	return changed
}

// Run scans until ctx ends and sends on changes the paths that changed
// since the last report, once they have been quiet for Quiet. While the
// receiver is busy, the watcher waits: the next scan compares with the
// last one, so no change is lost, and changes made meanwhile come as one.
func (w *watcher) Run(ctx context.Context, changes chan<- []string) {
	interval, quiet := w.Interval, w.Quiet
	if interval <= 0 {
		interval = watchInterval
	}
	if quiet <= 0 {
		quiet = watchQuiet
	}
	last := w.scan()
	var pending []string
	var changedAt time.Time
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		now := w.scan()
		took := time.Since(start)
		if d := diff(last, now); len(d) > 0 {
			pending = mergePaths(pending, d)
			changedAt = time.Now()
		}
		last = now
		if len(pending) > 0 && time.Since(changedAt) >= quiet {
			select {
			case changes <- pending:
				pending = nil
			case <-ctx.Done():
				return
			}
		}
		// A scan costs at most a tenth of the time.
		timer.Reset(max(interval, 10*took))
	}
}

// mergePaths is the sorted union of two sorted path lists.
func mergePaths(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
