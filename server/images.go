package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/storage"
)

// serveImage serves /images/HASH.png?exp=…&sig=…, a picture that an
// alert or a report links (Slack fetches images by URL): only with a
// signature that the runners made with the shared image secret for that
// one blob, and only until it expires. Everything else is 404, whether the
// blob exists or not, so that the route reveals nothing; without a secret
// the route is off.
func (s *Server) serveImage(w http.ResponseWriter, r *http.Request, args []string) {
	hash := args[0]
	q := r.URL.Query()
	if !access.VerifyImage(s.imageSecret, hash, q.Get("exp"), q.Get("sig"), time.Now()) {
		writeError(w, r, http.StatusNotFound, "no such image, or its link expired", nil)
		return
	}
	s.serveBlob(w, r, blobResponse{key: storage.BlobKey(hash), contentType: "image/png", cacheControl: cacheImage})
}

// cacheImage lets a receiver keep the picture, but not past its link's
// usual life by much, and no shared cache keep it at all.
const cacheImage = "private, max-age=3600"

// imageHash is the blob hash of an /images/ path's segment HASH.png.
func imageHash(segs []string) (string, bool) {
	if len(segs) != 1 {
		return "", false
	}
	hash, ok := strings.CutSuffix(segs[0], ".png")
	return hash, ok && storage.BlobKey(hash) != ""
}

// serveChartThumb serves /e/ENV/thumbs/DASHBOARD/CHART.png, the chart's
// card cropped from its dashboard's page by the thumbnail job.
func (s *Server) serveChartThumb(w http.ResponseWriter, r *http.Request, args []string) {
	env, dash, chart := args[0], args[1], args[2]
	l, ok := s.release(w, r, env)
	if !ok {
		return
	}
	th := l.rel.Dashboards[dash].ChartThumbnails[chart]
	s.servePicture(w, r, l, env, dash+"/"+chart, th.PNG, th.Stale)
}
