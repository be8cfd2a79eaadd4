package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// maxEnvEntries bounds the environments remembered, so that requests for
// made-up names cannot grow the map without end: past it, an environment
// without a release is not remembered.
const maxEnvEntries = 10000

// maxReleases is how many releases are kept by key besides the current
// ones: enough for every environment to flip back and forth.
const maxReleases = 64

// listKey is the singleflight key of the listing of environments; it
// cannot be an environment's name.
const listKey = "\x00list"

// loaded is a release as the server uses it.
type loaded struct {
	key string
	rel *release.Release
	// named is every blob the release names, with its content type: what
	// /blobs/ may serve.
	named map[string]string
	// stateKeys memoises the state key of a dashboard's raw query
	// (DASHBOARD + "?" + query → key), since normalising and hashing cost
	// more than serving; at most maxStateKeys entries per release.
	stateKeys sync.Map
	nKeys     atomic.Int64
}

// maxStateKeys bounds the memo of state keys of one release.
const maxStateKeys = 10000

// stateKey returns the memoised key of dashboard's query, if any.
func (l *loaded) stateKey(dashboard, rawQuery string) (string, bool) {
	v, ok := l.stateKeys.Load(dashboard + "?" + rawQuery)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// rememberStateKey memoises key for dashboard's query while there is room.
func (l *loaded) rememberStateKey(dashboard, rawQuery, key string) {
	if l.nKeys.Add(1) <= maxStateKeys {
		l.stateKeys.Store(dashboard+"?"+rawQuery, key)
	}
}

func newLoaded(key string, rel *release.Release) *loaded {
	l := &loaded{key: key, rel: rel, named: map[string]string{}}
	for _, d := range rel.Dashboards {
		if d.Page != "" {
			l.named[d.Page] = "text/html; charset=utf-8"
		}
		for _, page := range d.StatePages {
			l.named[page] = "text/html; charset=utf-8"
		}
		if d.Thumbnail != "" {
			l.named[d.Thumbnail] = "image/png"
		}
		for _, th := range d.ChartThumbnails {
			l.named[th.PNG] = "image/png"
		}
	}
	for _, c := range rel.Charts {
		for _, st := range c.States {
			if st.JSON != "" {
				l.named[st.JSON] = "application/json"
			}
			if st.CSV != "" {
				l.named[st.CSV] = "text/csv; charset=utf-8"
			}
		}
	}
	for name, key := range rel.Assets {
		l.named[key] = contentType(name)
	}
	return l
}

// contentType is the type of a file by its name's extension.
func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// current is what an environment's pointer named when last read.
type current struct {
	rel    *loaded // nil: no release
	readAt time.Time
}

// pointers reads environments' pointers at most once per ttl each (one
// read in flight per environment) and their releases once per key.
type pointers struct {
	store storage.Reader
	ttl   time.Duration
	log   *slog.Logger

	flight singleflight.Group

	mu       sync.RWMutex
	byEnv    map[string]*current
	releases map[string]*loaded
	envs     []string // the listing, sorted
	listedAt time.Time
}

func newPointers(store storage.Reader, ttl time.Duration, log *slog.Logger) *pointers {
	return &pointers{store: store, ttl: ttl, log: log, byEnv: map[string]*current{}, releases: map[string]*loaded{}}
}

// errNoEnv is the answer for an environment without a release.
var errNoEnv = errors.New("no such environment")

// get returns env's current release, reading its pointer again when the
// last read is older than ttl. An environment without a pointer is
// errNoEnv; when storage fails, the release read before keeps serving.
func (p *pointers) get(ctx context.Context, env string) (*loaded, error) {
	p.mu.RLock()
	c := p.byEnv[env]
	p.mu.RUnlock()
	if c != nil && time.Since(c.readAt) < p.ttl {
		if c.rel == nil {
			return nil, errNoEnv
		}
		return c.rel, nil
	}
	v, err, _ := p.flight.Do(env, func() (any, error) {
		return p.refresh(ctx, env, c)
	})
	if err != nil {
		return nil, err
	}
	if v.(*current).rel == nil {
		return nil, errNoEnv
	}
	return v.(*current).rel, nil
}

// getAny is get, except that a release read before is returned however
// old: for a question whose answer a stale release gives as well, such as
// whether a blob was published (blobs never change), it saves reading
// every environment's pointer again.
func (p *pointers) getAny(ctx context.Context, env string) (*loaded, error) {
	p.mu.RLock()
	c := p.byEnv[env]
	p.mu.RUnlock()
	if c != nil && c.rel != nil {
		return c.rel, nil
	}
	return p.get(ctx, env)
}

func (p *pointers) refresh(ctx context.Context, env string, old *current) (*current, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
	defer cancel()
	next := &current{readAt: time.Now()}
	ptr, err := release.ReadPointer(ctx, p.store, env)
	if err == nil {
		next.rel, err = p.release(ctx, ptr.Release)
	}
	switch {
	case errors.Is(err, release.ErrNone):
		// no release: remembered as such, below
	case err != nil && old != nil && old.rel != nil:
		p.log.Warn("read pointer; serving the release read before", "env", env, "error", err)
		next.rel = old.rel
	case err != nil:
		return nil, fmt.Errorf("read %s's release: %w", env, err)
	}
	p.mu.Lock()
	if next.rel != nil || len(p.byEnv) < maxEnvEntries {
		p.byEnv[env] = next
	}
	p.mu.Unlock()
	return next, nil
}

// release returns the release stored under key, reading it once.
func (p *pointers) release(ctx context.Context, key string) (*loaded, error) {
	p.mu.RLock()
	l := p.releases[key]
	p.mu.RUnlock()
	if l != nil {
		return l, nil
	}
	if storage.BlobHash(key) == "" {
		return nil, fmt.Errorf("pointer names %q, which is not a blob key", key)
	}
	rel, err := release.Read(ctx, p.store, key)
	if err != nil {
		return nil, err
	}
	l = newLoaded(key, rel)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.releases) >= maxReleases {
		p.pruneLocked()
	}
	p.releases[key] = l
	return l, nil
}

// pruneLocked forgets the releases no environment serves.
func (p *pointers) pruneLocked() {
	live := map[string]bool{}
	for _, c := range p.byEnv {
		if c.rel != nil {
			live[c.rel.key] = true
		}
	}
	for key := range p.releases {
		if !live[key] {
			delete(p.releases, key)
		}
	}
}

// list returns the environments that have a pointer, sorted, listing
// storage at most once per ttl.
func (p *pointers) list(ctx context.Context) ([]string, error) {
	p.mu.RLock()
	envs, at := p.envs, p.listedAt
	p.mu.RUnlock()
	if !at.IsZero() && time.Since(at) < p.ttl {
		return envs, nil
	}
	v, err, _ := p.flight.Do(listKey, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		envs, err := listEnvs(ctx, p.store)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.envs, p.listedAt = envs, time.Now()
		p.mu.Unlock()
		return envs, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// listEnvs lists the pointers envs/<env>/current in storage.
func listEnvs(ctx context.Context, store storage.Reader) ([]string, error) {
	infos, err := store.List(ctx, "envs/")
	if err != nil {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	var envs []string
	for _, info := range infos {
		rest, ok := strings.CutPrefix(info.Key, "envs/")
		if !ok {
			continue
		}
		env, tail, _ := strings.Cut(rest, "/")
		if tail == "current" && validName(env) {
			envs = append(envs, env)
		}
	}
	slices.Sort(envs)
	return slices.Compact(envs), nil
}
