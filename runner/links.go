package runner

import (
	"bytes"
	"context"
	"strings"

	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/runner/notify"
)

// imageLinkTTL is how long a notification's picture link works: as long
// as bic gc keeps the picture by default (its retention).
const imageLinkTTL = publish.DefaultRetention

// pageURL is a dashboard's address on the public server, "" without one.
func (w *Worker) pageURL(env, dashboard string) string {
	if w.Notify == nil || w.Notify.PublicURL == "" || dashboard == "" {
		return ""
	}
	return strings.TrimSuffix(w.Notify.PublicURL, "/") + access.DashboardPath(env, dashboard)
}

// linkImages gives each picture of msg a signed link on the public server
// (Slack shows pictures only by URL): the PNG is stored as a blob, a
// picture record keeps it from gc for the link's life, and the link names
// that one blob until it expires. Without a public URL and a secret, or
// when storing fails, a picture goes without a link (email still carries
// it; Slack shows the text alone).
func (w *Worker) linkImages(ctx context.Context, cfg *notify.Config, msg *notify.Message) {
	if cfg.PublicURL == "" || len(cfg.LinkSecret) == 0 {
		return
	}
	base := strings.TrimSuffix(cfg.PublicURL, "/")
	for i := range msg.Images {
		img := &msg.Images[i]
		if img.URL != "" || len(img.Data) == 0 {
			continue
		}
		blob, err := w.Storage.PutBlob(ctx, bytes.NewReader(img.Data))
		if err == nil {
			err = release.WritePicture(ctx, w.Storage, release.ImagePrefix+blob.Hash, release.Picture{PNG: blob.Key})
		}
		if err != nil {
			w.Log.Warn("a picture goes without its link", "env", msg.Env, "name", msg.Name, "err", err)
			continue
		}
		img.URL = base + access.ImagePath(blob.Hash) + "?" + access.SignImage(cfg.LinkSecret, blob.Hash, w.Now().Add(imageLinkTTL))
	}
}
