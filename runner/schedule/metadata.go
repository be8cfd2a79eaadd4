package schedule

import (
	"context"
	"fmt"

	"github.com/bic-dev/bic/publish/metadata"
)

// Metadata is the Store of a metadata database: every environment with a
// live revision is scheduled, with that revision's manifest (what viewers
// see is what alerts watch; a revision still computing is not scheduled
// until it is live).
func Metadata(st *metadata.Store) Store { return metadataStore{st} }

type metadataStore struct{ *metadata.Store }

func (m metadataStore) Scheduled(ctx context.Context) ([]Env, error) {
	envs, err := m.Environments(ctx)
	if err != nil {
		return nil, err
	}
	var out []Env
	for _, e := range envs {
		if e.Live == 0 {
			continue
		}
		man, err := m.Manifest(ctx, e.Name, e.Live)
		if err != nil {
			return nil, fmt.Errorf("manifest of %s revision %d: %w", e.Name, e.Live, err)
		}
		out = append(out, Env{Name: e.Name, Revision: e.Live, Manifest: man})
	}
	return out, nil
}
