package site

import (
	"strings"
	"testing"
	"time"
)

func TestRenderIndex(t *testing.T) {
	tests := []struct {
		name string
		envs []IndexEnv
		want []string
	}{
		{"none", nil, []string{"No environment has been published yet."}},
		{"two environments", []IndexEnv{
			{Name: "prod", Revision: 12, PublishedAt: time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC), Dashboards: []IndexDashboard{
				{Name: "sales", Title: "Sales", Description: "Revenue & orders", URL: "e/prod/d/sales", ThumbnailURL: "e/prod/thumbs/sales.png"},
				{Name: "untitled", URL: "e/prod/d/untitled"},
			}},
			{Name: "pr-7", Revision: 3},
		}, []string{
			`<section class="bic-env-list" id="env-prod">`, "revision 12", `<time datetime="2026-01-15T09:30:00Z">15 Jan 2026 09:30 UTC</time>`,
			`<a href="e/prod/d/sales"><img src="e/prod/thumbs/sales.png" alt="" loading="lazy"><strong>Sales</strong></a><p>Revenue &amp; orders</p>`,
			`<strong>untitled</strong>`, `id="env-pr-7"`, "No dashboards published.",
		}},
		{"escaped", []IndexEnv{{Name: "prod", Dashboards: []IndexDashboard{{Name: "x", Title: evil, Description: evil, URL: "e/prod/d/x"}}}},
			[]string{`<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := RenderIndex(tt.envs)
			if err != nil {
				t.Fatal(err)
			}
			checkPage(t, page)
			if strings.Contains(string(page), evil) {
				t.Error("index holds a script element from its input")
			}
			for _, w := range tt.want {
				if !strings.Contains(string(page), w) {
					t.Errorf("index lacks %s", w)
				}
			}
		})
	}
}
