package runner

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
)

// connPool keeps one open connection per warehouse connection (by its
// settings and time zone) across jobs: opening costs a TCP and TLS
// handshake, and DuckDB reads a project's CSV files again on every open.
// Connections are safe for concurrent use, so jobs share them.
type connPool struct {
	open Opener

	mu    sync.Mutex
	conns map[string]*pooledConn
}

type pooledConn struct {
	once sync.Once
	conn warehouse.Conn
	err  error
}

func newConnPool(open Opener) *connPool {
	return &connPool{open: open, conns: map[string]*pooledConn{}}
}

// Open gives the pool's connection for c, opening it on first use. A
// connection that failed to open is tried again by the next job.
func (p *connPool) Open(ctx context.Context, c compiler.Connection, loc *time.Location) (warehouse.Conn, error) {
	spec, _ := json.Marshal(c) // references such as ${env:PW}, never their values
	key := string(spec) + "\x00" + loc.String()
	p.mu.Lock()
	pc, ok := p.conns[key]
	if !ok {
		pc = &pooledConn{}
		p.conns[key] = pc
	}
	p.mu.Unlock()
	pc.once.Do(func() { pc.conn, pc.err = p.open.Open(ctx, c, loc) })
	if pc.err != nil {
		p.mu.Lock()
		if p.conns[key] == pc {
			delete(p.conns, key)
		}
		p.mu.Unlock()
		return nil, pc.err
	}
	return shared{pc.conn}, nil
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, pc := range p.conns {
		if pc.conn != nil {
			_ = pc.conn.Close()
		}
		delete(p.conns, k)
	}
}

// shared is a pooled connection as RunChart sees it: its Close leaves it
// open for the next job.
type shared struct{ warehouse.Conn }

func (shared) Close() error { return nil }
