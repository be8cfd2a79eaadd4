package site

import (
	"regexp"
	"strings"
	"testing"
)

var (
	attrURL     = regexp.MustCompile(`(?i)\s(?:src|href|action)="([^"]*)"`)
	externalURL = regexp.MustCompile(`(?i)https?://|//[a-z0-9.-]+\.[a-z]{2,}/`)
)

// checkPage checks what every page must hold to: nothing from another
// host, every URL relative, and no script element but the page's own.
func checkPage(t *testing.T, page []byte) {
	t.Helper()
	s := string(page)
	if loc := externalURL.FindStringIndex(s); loc != nil {
		t.Errorf("page has an external URL: …%s…", s[max(0, loc[0]-40):min(len(s), loc[1]+40)])
	}
	for _, m := range attrURL.FindAllStringSubmatch(s, -1) {
		u := m[1]
		if u == "data:," {
			continue // the empty favicon, which spares a request for /favicon.ico
		}
		if err := checkRelative(u); err != nil || strings.HasPrefix(strings.ToLower(u), "javascript:") {
			t.Errorf("URL %q is not relative", u)
		}
	}
	opens := strings.Count(strings.ToLower(s), "<script")
	closes := strings.Count(strings.ToLower(s), "</script")
	if opens != closes {
		t.Errorf("page has %d <script and %d </script: something broke out of a script element", opens, closes)
	}
	for _, tag := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAllString(s, -1) {
		if tag != `<script type="application/json" class="bic-spec">` && tag != `<script type="application/json" class="bic-data">` &&
			tag != `<script type="application/json" id="bic-config">` && !strings.HasPrefix(tag, `<script src="`) {
			t.Errorf("unexpected script element %s", tag)
		}
	}
}
