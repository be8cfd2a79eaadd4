package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bic-dev/bic/publish/storage"
)

// Pictures drawn outside a publish are found through small records in
// storage, each naming one PNG blob, so that bic gc keeps the blob while
// its record is within the retention:
//
//   - renders/<image key>: what a thumbnail job drew for an image key
//     (render.Request.Key), or why it could not; the publish job finds
//     the picture there instead of drawing it.
//   - images/<blob hash>: an alert's or a report's picture that a signed
//     link (/images/…) leads to.
const (
	RenderPrefix = "renders/"
	ImagePrefix  = "images/"
)

// Picture is a picture record: the PNG blob's key, or the error its
// drawing failed with.
type Picture struct {
	PNG   string `json:"png,omitempty"`
	Error string `json:"error,omitempty"`
}

// ErrNotPicture marks a record that is not one bic wrote.
var ErrNotPicture = errors.New("not a picture record bic wrote")

// maxPicture bounds what ReadPicture reads: a record is one key or one
// short error.
const maxPicture = 64 << 10

// WritePicture records p under key, replacing what was there.
func WritePicture(ctx context.Context, w storage.Writer, key string, p Picture) error {
	if (p.PNG == "") == (p.Error == "") {
		return errors.New("a picture record names a PNG or an error")
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := w.WritePointer(ctx, key, b); err != nil {
		return fmt.Errorf("record the picture %s: %w", key, err)
	}
	return nil
}

// ReadPicture reads the record under key. A record that does not parse,
// names both or neither, or names a PNG that is not a blob key, is an
// error like a missing one.
func ReadPicture(ctx context.Context, r storage.Reader, key string) (Picture, error) {
	b, err := storage.ReadAll(ctx, r, key, maxPicture)
	if err != nil {
		return Picture{}, err
	}
	var p Picture
	if err := json.Unmarshal(b, &p); err != nil || (p.PNG == "") == (p.Error == "") || (p.PNG != "" && storage.BlobHash(p.PNG) == "") {
		return Picture{}, fmt.Errorf("picture record %s: %w", key, ErrNotPicture)
	}
	return p, nil
}
