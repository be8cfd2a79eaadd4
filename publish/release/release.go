// Package release is the document that says what an environment serves,
// and the pointer that names it (DESIGN.md, "Artifacts, releases and the
// pointer"). A release maps every chart of a revision, and each of its
// precomputed filter states, to the blobs of its data; the pointer
// envs/<env>/current names the release. Publishing writes the release as
// a blob, then overwrites the pointer in one operation, so a reader sees
// the old release or the new one, never a mix.
//
// The runner's publish job writes releases; the server reads them. Both
// need only object storage.
package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/publish/storage"
)

// Version is the release document's format.
const Version = 1

// maxDocument bounds what Read accepts: a release of 100,000 charts is
// about 40 MB.
const maxDocument = 256 << 20

// Release is one published revision of an environment.
type Release struct {
	Version      int       `json:"version"`
	Env          string    `json:"env"`
	Revision     int       `json:"revision"`
	ManifestHash string    `json:"manifest_hash"`
	PublishedAt  time.Time `json:"published_at"`
	// Charts maps DASHBOARD/CHART to its data.
	Charts map[string]Chart `json:"charts"`
	// Dashboards maps a dashboard's name to what the server needs of it.
	Dashboards map[string]Dashboard `json:"dashboards,omitempty"`
	// Assets maps an asset's name (echarts.min.js, bic.js, bic.css) to
	// its blob: pages refer to them, and the server and a static export
	// serve them from storage like any other blob.
	Assets map[string]string `json:"assets,omitempty"`
}

// Dashboard is a published dashboard: its title, its page (an HTML blob
// drawn with the default state's data) and its filters as filterstate
// needs them, so the server normalises a viewer's state without the
// compiler and finds the precomputed blob by the state's key.
type Dashboard struct {
	Title       string                `json:"title"`
	Description string                `json:"description,omitempty"`
	Page        string                `json:"page"`
	Charts      []string              `json:"charts"` // DASHBOARD/CHART refs, in layout order
	Filters     filterstate.Dashboard `json:"filters"`
	// StatePages maps each precomputed filter state other than the
	// default, by its filter-state key, to its page: drawn with that
	// state's data and controls, so a shared link to it opens whole.
	StatePages map[string]string `json:"state_pages,omitempty"`
	// Thumbnail is the PNG of the page drawn in a headless browser before
	// the release was published, and ThumbnailKey what it was drawn from
	// (the page, its assets, the size): a later release whose key is the
	// same keeps the image without drawing again. ThumbnailStale is set
	// when drawing this release's page failed and Thumbnail is an earlier
	// one, kept.
	Thumbnail      string `json:"thumbnail,omitempty"`
	ThumbnailKey   string `json:"thumbnail_key,omitempty"`
	ThumbnailStale bool   `json:"thumbnail_stale,omitempty"`
	// ChartThumbnails are the dashboard's charts drawn each alone, by
	// chart name, kept across releases like Thumbnail.
	ChartThumbnails map[string]Thumbnail `json:"chart_thumbnails,omitempty"`
}

// Thumbnail is a picture of a chart: its PNG blob, the image key it was
// drawn from, and whether it is an earlier one, kept because this
// release's could not be drawn.
type Thumbnail struct {
	PNG   string `json:"png"`
	Key   string `json:"key"`
	Stale bool   `json:"stale,omitempty"`
}

// Chart is a chart's data: the state that a viewer who chose nothing sees,
// and every precomputed state by its filter-state key.
type Chart struct {
	// Hash is the chart's content hash: a later revision keeps this data
	// for the chart only while its hash is the same.
	Hash    string          `json:"hash"`
	Default string          `json:"default"`
	States  map[string]Data `json:"states"`
}

// Data is one computed result: its JSON and CSV blobs (storage keys),
// row count and when the warehouse was asked.
type Data struct {
	JSON       string    `json:"json"`
	CSV        string    `json:"csv"`
	Rows       int64     `json:"rows"`
	ComputedAt time.Time `json:"computed_at"`
	InputKey   string    `json:"input_key"`
	// StaleAt is when the data goes stale: the first refresh tick of its
	// dataset after ComputedAt. Zero when the dataset has no refresh
	// schedule. Readers compare it with their own clock, so a page or a
	// server marks stale data without knowing the schedule.
	StaleAt time.Time `json:"stale_at,omitzero"`
}

// Dashboard is the release's dashboard called name; the zero Dashboard
// when r is nil or has none.
func (r *Release) Dashboard(name string) Dashboard {
	if r == nil {
		return Dashboard{}
	}
	return r.Dashboards[name]
}

// Pointer is what envs/<env>/current holds.
type Pointer struct {
	Release  string `json:"release"` // the release blob's storage key
	Revision int    `json:"revision"`
}

// PointerKey is the key of an environment's pointer.
func PointerKey(env string) string { return "envs/" + env + "/current" }

// ErrNone is the answer for an environment that has no release yet.
var ErrNone = errors.New("no release published yet")

// Write stores r as a blob and returns its key.
func Write(ctx context.Context, w storage.Writer, r *Release) (storage.Blob, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return storage.Blob{}, fmt.Errorf("encode release of %s revision %d: %w", r.Env, r.Revision, err)
	}
	blob, err := w.PutBlob(ctx, bytes.NewReader(b))
	if err != nil {
		return storage.Blob{}, fmt.Errorf("write release of %s revision %d: %w", r.Env, r.Revision, err)
	}
	return blob, nil
}

// Flip points env at a release: the one atomic step of a publish. It
// first adds the release to env's history in storage (see Record), then
// writes the pointer.
func Flip(ctx context.Context, w storage.Writer, env string, p Pointer) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := writeRecord(ctx, w, env, p, time.Now()); err != nil {
		return err
	}
	if err := w.WritePointer(ctx, PointerKey(env), b); err != nil {
		return fmt.Errorf("point %s at revision %d: %w", env, p.Revision, err)
	}
	return nil
}

// ReadPointer reads env's pointer, or ErrNone.
func ReadPointer(ctx context.Context, r storage.Reader, env string) (Pointer, error) {
	var p Pointer
	if err := readJSON(ctx, r, PointerKey(env), 1<<16, &p); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return p, fmt.Errorf("%s: %w", env, ErrNone)
		}
		return p, err
	}
	return p, nil
}

// Current reads the release env's pointer names, or ErrNone.
func Current(ctx context.Context, r storage.Reader, env string) (*Release, Pointer, error) {
	p, err := ReadPointer(ctx, r, env)
	if err != nil {
		return nil, p, err
	}
	rel, err := Read(ctx, r, p.Release)
	if err != nil {
		return nil, p, fmt.Errorf("%s's release (revision %d): %w", env, p.Revision, err)
	}
	return rel, p, nil
}

// Read reads the release document stored at key, refusing one of another
// format.
func Read(ctx context.Context, r storage.Reader, key string) (*Release, error) {
	var rel Release
	if err := readJSON(ctx, r, key, maxDocument, &rel); err != nil {
		return nil, err
	}
	if rel.Version != Version {
		return nil, fmt.Errorf("release %s is of format %d; this bic reads format %d", key, rel.Version, Version)
	}
	return &rel, nil
}

func readJSON(ctx context.Context, r storage.Reader, key string, limit int64, v any) error {
	b, err := storage.ReadAll(ctx, r, key, limit)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}
