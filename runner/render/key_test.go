package render

import (
	"testing"

	"github.com/bic-dev/bic/publish/release"
)

// TestKey: the image key is the same for the same inputs in any order,
// and changes with each of them.
func TestKey(t *testing.T) {
	assets := map[string]string{"bic.js": "blobs/aa/1", "echarts.min.js": "blobs/bb/2"}
	base := Key("blobs/cc/page", assets, []string{"blobs/d1", "blobs/d2"}, 1200, 800, 1, "")
	if again := Key("blobs/cc/page", map[string]string{"echarts.min.js": "blobs/bb/2", "bic.js": "blobs/aa/1"}, []string{"blobs/d2", "blobs/d1", "blobs/d1"}, 1200, 800, 1, ""); again != base {
		t.Error("the key depends on the order of its inputs")
	}
	if Key("blobs/cc/page", assets, []string{"blobs/d1", "blobs/d2"}, 1200, 800, 0, "") != base {
		t.Error("scale 0 is not the default scale 1")
	}
	for name, k := range map[string]string{
		"Page":   Key("blobs/cc/other", assets, []string{"blobs/d1", "blobs/d2"}, 1200, 800, 1, ""),
		"Asset":  Key("blobs/cc/page", map[string]string{"bic.js": "blobs/aa/9", "echarts.min.js": "blobs/bb/2"}, []string{"blobs/d1", "blobs/d2"}, 1200, 800, 1, ""),
		"Data":   Key("blobs/cc/page", assets, []string{"blobs/d1"}, 1200, 800, 1, ""),
		"Width":  Key("blobs/cc/page", assets, []string{"blobs/d1", "blobs/d2"}, 1201, 800, 1, ""),
		"Height": Key("blobs/cc/page", assets, []string{"blobs/d1", "blobs/d2"}, 1200, 801, 1, ""),
		"Scale":  Key("blobs/cc/page", assets, []string{"blobs/d1", "blobs/d2"}, 1200, 800, 2, ""),
		"Chart":  Key("blobs/cc/page", assets, []string{"blobs/d1", "blobs/d2"}, 1200, 800, 1, "orders"),
	} {
		if k == base {
			t.Errorf("%s: a change leaves the key as it was", name)
		}
	}
	rel := &release.Release{Assets: assets, Dashboards: map[string]release.Dashboard{"d": {Page: "blobs/cc/page"}}}
	q := Request{Release: rel, Dashboard: "d", Width: 1200, Height: 800, Scale: 1}
	if q.Key([]string{"blobs/d1", "blobs/d2"}) != base {
		t.Error("Request.Key differs from Key for the same image")
	}
	q.Full = true
	if q.Key([]string{"blobs/d1", "blobs/d2"}) == base {
		t.Error("an image of the whole page has the key of the viewport's")
	}
}
