package compiler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
}

// hashDashboards works out the hashes of every dashboard and its charts,
// on every core. With a cache, a dashboard whose document and whose
// context (the project, its connections and every dataset, by their
// hashes) are unchanged takes its hashes from the cache: they are a pure
// function of those, and hashing was most of a warm run's time. The
// hashes of all dashboards in one context are one cache value (one read
// instead of one per dashboard), written again when any was missing.
func (r *resolver) hashDashboards(hs []dashboardHashes) {
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

// loadPack reads the dashboards' hashes and verdicts kept for the
// context the project's datasets now make (none without a cache).
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

// dashboardMemo is one dashboard's hashes as the cache keeps them.
type dashboardMemo struct {
	key      string // of the dashboard's document
	id, hash string
	charts   []string // ID, hash, ID, hash…
	clean    bool
}

// use sets the hashes of h from m when m names the same dashboard and
// charts in the same order.
func (m dashboardMemo) use(h *dashboardHashes, charts []ChartObject, dashboards []DashboardObject) bool {
	if m.id != h.obj.ID || len(m.charts) != 2*len(charts) {
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

var hashesMagic = []byte("bicdp2\n")

// encodeHashPack writes the hashes and verdicts of every dashboard with a
// cache key, and those of the dashboards reused without resolving.
func encodeHashPack(key string, hs []dashboardHashes, allCharts []ChartObject, reused []dashboardMemo) []byte {
	w := entryWriter{ok: true}
	w.buf.Write(hashesMagic)
	w.str(key)
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
		if m.clean {
			w.buf.WriteByte(1)
		} else {
			w.buf.WriteByte(0)
		}
		w.uint(uint64(len(m.charts) / 2))
		for _, s := range m.charts {
			w.str(s)
		}
	}
	for _, h := range hs {
		if h.key == "" {
			continue
		}
		m := dashboardMemo{key: h.key, id: h.obj.ID, hash: h.obj.Hash, clean: h.clean}
		for _, c := range allCharts[h.first : h.first+len(h.charts)] {
			m.charts = append(m.charts, c.ID, c.Hash)
		}
		write(m)
	}
	for _, m := range reused {
		write(m)
	}
	sum := sha256.Sum256(w.buf.Bytes())
	w.buf.Write(sum[:])
	return w.buf.Bytes()
}

// decodeHashPack reads a pack written for key, or returns nil: anything
// damaged, for another key, or holding a hash that is not one, is a miss.
func decodeHashPack(key string, b []byte) map[string]dashboardMemo {
	if len(b) < len(hashesMagic)+sha256.Size || !bytes.HasPrefix(b, hashesMagic) {
		return nil
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil
	}
	rd := entryReader{b: body, text: string(body), pos: len(hashesMagic)}
	if rd.str() != key {
		return nil
	}
	n := rd.count()
	out := make(map[string]dashboardMemo, n)
	for range n {
		m := dashboardMemo{key: rd.str(), id: rd.str(), hash: rd.str()}
		switch rd.byte() {
		case 0:
		case 1:
			m.clean = true
		default:
			rd.fail()
		}
		c := rd.count()
		m.charts = make([]string, 0, 2*c)
		for range c {
			m.charts = append(m.charts, rd.str(), rd.str())
		}
		if rd.err != nil || !validHash(m.hash) {
			return nil
		}
		for j := 1; j < len(m.charts); j += 2 {
			if !validHash(m.charts[j]) {
				return nil
			}
		}
		out[m.key] = m
	}
	if rd.err != nil || rd.pos != len(rd.b) {
		return nil
	}
	return out
}

// hashContext stands for everything outside a dashboard's document that
// its hashes depend on.
func (r *resolver) hashContext() []byte {
	h := sha256.New()
	h.Write(r.memo.digest[:])
	writeLenPrefixed(h, []byte("dashboard hashes 2"))
	writeLenPrefixed(h, []byte(contentHash(KindProject, r.project, nil)))
	for _, m := range []map[string]string{r.connectionHashes(), r.datasetHashes()} {
		names := sortedKeys(m)
		for _, n := range names {
			writeLenPrefixed(h, []byte(n))
			writeLenPrefixed(h, []byte(m[n]))
		}
		writeLenPrefixed(h, nil)
	}
	return h.Sum(nil)
}

func (r *resolver) connectionHashes() map[string]string {
	out := make(map[string]string, len(r.connections))
	for n, c := range r.connections {
		out[n] = c.Hash
	}
	return out
}

func (r *resolver) datasetHashes() map[string]string {
	out := make(map[string]string, len(r.datasets))
	for n, d := range r.datasets {
		out[n] = d.Hash
	}
	return out
}

func validHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
