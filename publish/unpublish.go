package publish

import (
	"context"
	"fmt"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// Unpublish stops serving env: it deletes the environment's pointer, so
// servers answer it as unknown within their pointer TTL, then its release
// records, so blob gc no longer keeps what only env's releases named.
// bic destroy, and gc of expired previews, call it after removing the
// environment from the metadata DB. An environment with nothing in
// storage is not an error.
func Unpublish(ctx context.Context, store storage.Store, env string) error {
	if err := store.Delete(ctx, release.PointerKey(env)); err != nil {
		return fmt.Errorf("unpublish %s: %w", env, err)
	}
	records, err := store.List(ctx, release.HistoryPrefix(env))
	if err != nil {
		return fmt.Errorf("unpublish %s: %w", env, err)
	}
	for _, r := range records {
		if err := store.Delete(ctx, r.Key); err != nil {
			return fmt.Errorf("unpublish %s: %w", env, err)
		}
	}
	return nil
}
