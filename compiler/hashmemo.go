package compiler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// dashboardHashes is what a dashboard's hashes are made of, gathered while
// it is resolved and hashed afterwards: its charts' inputs, and the
// dataset hashes it depends on (its charts' hashes are added).
type dashboardHashes struct {
	key       string // the cache key of the dashboard's document, or ""
	first     int    // its charts are r.m.Charts[first:first+len(charts)]
	charts    []chartInputs
	chartDeps []map[string]string
	deps      map[string]string
	dashboard int // its place in r.m.Dashboards
	obj       *DashboardObject
	// clean: resolving it found no problem (see reuseVerdicts).
	clean bool
	// datasets are the datasets it read, as ID, hash, ID, hash… sorted.
	datasets []string
}

// datasetsRead lists, as dashboardHashes.datasets, the datasets of deps
// and of each chart's dependencies.
func datasetsRead(deps map[string]string, chartDeps []map[string]string) []string {
	read := maps.Clone(deps)
	for _, m := range chartDeps {
		maps.Copy(read, m)
	}
	out := make([]string, 0, 2*len(read))
	for _, id := range sortedKeys(read) {
		out = append(out, id, read[id])
	}
	return out
}

// hashDashboards works out the hashes of every dashboard and its charts,
// on every core. With a cache, a dashboard whose document, context (the
// project and its connections, by their hashes) and the datasets it read
// are unchanged takes its hashes from the cache: they are a pure function
// of those, and hashing was most of a warm run's time. The hashes of all
// dashboards in one context are one cache value (one read instead of one
// per dashboard), written again when any was missing.
func (r *resolver) hashDashboards(hs []dashboardHashes) {
	if r.skipHashes {
		return
	}
	start := time.Now()
	defer func() { r.hashTime += time.Since(start) }()
	known := r.pack
	var missed atomic.Bool
	parallel(context.Background(), len(hs), func(i int) {
		h := &hs[i]
		charts := r.m.Charts[h.first : h.first+len(h.charts)]
		if m, ok := known[h.key]; ok && h.key != "" && m.use(h, charts, r.m.Dashboards) {
			return
		}
		missed.Store(true)
		for j := range h.charts {
			charts[j].Hash = contentHash(kindChart, h.charts[j], h.chartDeps[j])
			h.deps[charts[j].ID] = charts[j].Hash
		}
		h.obj.Hash = contentHash(KindDashboard, h.obj.Spec, h.deps)
		r.m.Dashboards[h.dashboard].Hash = h.obj.Hash
	})
	if r.packKey != "" && missed.Load() {
		r.memo.cache.Put(r.packKey, encodeHashPack(r.packKey, hs, r.m.Charts, r.reused))
	}
}

// loadPack reads the dashboards' memos kept for the context (the project
// and its connections) the project now has (none without a cache).
func (r *resolver) loadPack() {
	if r.memo == nil {
		return
	}
	sum := sha256.Sum256(r.hashContext())
	r.packKey = hex.EncodeToString(sum[:])
	if b, ok := r.memo.cache.Get(r.packKey); ok {
		r.pack = decodeHashPack(r.packKey, b)
	}
}

// dashboardMemo is what the cache keeps of one dashboard: its hashes, its
// verdict, and the datasets both were made from.
type dashboardMemo struct {
	key      string // of the dashboard's document
	id, hash string
	charts   []string // ID, hash, ID, hash…
	clean    bool
	datasets []string // as dashboardHashes.datasets
}

// readSame reports whether every dataset m read is still there, with the
// same hash.
func (m dashboardMemo) readSame(datasets map[string]*DatasetObject) bool {
	for i := 0; i+1 < len(m.datasets); i += 2 {
		ds, ok := datasets[ObjectID(m.datasets[i]).Name()]
		if !ok || ds.ID != m.datasets[i] || ds.Hash != m.datasets[i+1] {
			return false
		}
	}
	return true
}

// use sets the hashes of h from m when m names the same dashboard and
// charts in the same order.
func (m dashboardMemo) use(h *dashboardHashes, charts []ChartObject, dashboards []DashboardObject) bool {
	if m.id != h.obj.ID || len(m.charts) != 2*len(charts) || !slices.Equal(m.datasets, h.datasets) {
		return false
	}
	for j := range charts {
		if m.charts[2*j] != charts[j].ID {
			return false
		}
	}
	for j := range charts {
		charts[j].Hash = m.charts[2*j+1]
		h.deps[charts[j].ID] = charts[j].Hash
	}
	h.obj.Hash = m.hash
	dashboards[h.dashboard].Hash = m.hash
	return true
}

var hashesMagic = []byte("bicdp3\n")

// encodeHashPack writes the hashes and verdicts of every dashboard with a
// cache key, and those of the dashboards reused without resolving.
func encodeHashPack(key string, hs []dashboardHashes, allCharts []ChartObject, reused []dashboardMemo) []byte {
	w := newSealed(hashesMagic, key, "")
	n := len(reused)
	for _, h := range hs {
		if h.key != "" {
			n++
		}
	}
	w.uint(uint64(n))
	write := func(m dashboardMemo) {
		w.str(m.key)
		w.str(m.id)
		w.str(m.hash)
		w.bool(m.clean)
		for _, list := range [][]string{m.charts, m.datasets} {
			w.uint(uint64(len(list) / 2))
			for _, s := range list {
				w.str(s)
			}
		}
	}
	for _, h := range hs {
		if h.key == "" {
			continue
		}
		m := dashboardMemo{key: h.key, id: h.obj.ID, hash: h.obj.Hash, clean: h.clean, datasets: h.datasets}
		for _, c := range allCharts[h.first : h.first+len(h.charts)] {
			m.charts = append(m.charts, c.ID, c.Hash)
		}
		write(m)
	}
	for _, m := range reused {
		write(m)
	}
	return w.seal()
}

// decodeHashPack reads a pack written for key, or returns nil: anything
// damaged, for another key, or holding a hash that is not one, is a miss.
func decodeHashPack(key string, b []byte) map[string]dashboardMemo {
	rd, ok := openSealed(hashesMagic, key, "", b)
	if !ok {
		return nil
	}
	n := rd.count()
	out := make(map[string]dashboardMemo, n)
	for range n {
		m := dashboardMemo{key: rd.str(), id: rd.str(), hash: rd.str(), clean: rd.bool()}
		for _, list := range []*[]string{&m.charts, &m.datasets} {
			c := rd.count()
			*list = make([]string, 0, 2*c)
			for range c {
				*list = append(*list, rd.str(), rd.str())
			}
			for j := 1; j < len(*list); j += 2 {
				if !validHash((*list)[j]) {
					return nil
				}
			}
		}
		if rd.err != nil || !validHash(m.hash) {
			return nil
		}
		out[m.key] = m
	}
	if rd.err != nil || rd.pos != len(rd.b) {
		return nil
	}
	return out
}

// hashContext stands for everything outside a dashboard's document that
// its hashes and verdict depend on, but the datasets it reads: each memo
// names those.
func (r *resolver) hashContext() []byte {
	h := sha256.New()
	h.Write(r.memo.digest[:])
	writeLenPrefixed(h, []byte("dashboard hashes 3"))
	writeLenPrefixed(h, []byte(contentHash(KindProject, r.project, nil)))
	for _, name := range sortedKeys(r.connections) {
		writeLenPrefixed(h, []byte(name))
		writeLenPrefixed(h, []byte(r.connections[name].Hash))
	}
	return h.Sum(nil)
}

func validHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
