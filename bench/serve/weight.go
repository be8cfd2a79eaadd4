package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// pageWeight is what loading one dashboard page costs, measured on the
// bytes `bic serve` sends.
type pageWeight struct {
	name            string
	html, htmlGzip  int64 // the page, without and with Accept-Encoding: gzip
	refs            pageRefs
	assets, assetsZ int64 // the page's assets, raw and as gzip sends them
}

// total is the page and its assets, raw and gzip.
func (p pageWeight) total() (raw, gz int64) { return p.html + p.assets, p.htmlGzip + p.assetsZ }

// requests is what a first load of the page asks for: the page, each
// asset, and each chart's data that is not inline in the page.
func (p pageWeight) requests() int { return 1 + len(p.refs.assets) + p.refs.fetchedOnLoad }

// pageRefs are the URLs a page references, relative as written.
type pageRefs struct {
	assets []string // loaded with the page: scripts, stylesheets, icons, images
	// data are the charts' data URLs (their spec's "api"), fetched when a
	// filter changes; inline counts the charts whose data is in the page.
	data          []string
	inline        int
	fetchedOnLoad int // charts with a data URL and no inline data
	downloads     int // links the viewer may follow (CSV), not loaded
}

var (
	tagRe    = regexp.MustCompile(`(?is)<(script|link|img|source|iframe)\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?is)\b(src|href|rel)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
	apiRe    = regexp.MustCompile(`"api"\s*:\s*"([^"]*)"`)
	inlineRe = regexp.MustCompile(`class="bic-data"`)
	csvRe    = regexp.MustCompile(`(?i)<a\b[^>]*\bhref="[^"]*csv/[^"]*"`)
)

// references lists what an HTML page references. A browser loads a
// script's or image's src and a stylesheet's, icon's or preload's href;
// other links are navigation.
func references(html string) pageRefs {
	var r pageRefs
	for _, m := range tagRe.FindAllStringSubmatch(html, -1) {
		tag, attrs := strings.ToLower(m[1]), map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
			attrs[strings.ToLower(a[1])] = a[2] + a[3] + a[4]
		}
		ref := attrs["src"]
		if tag == "link" {
			ref = ""
			for rel := range strings.FieldsSeq(strings.ToLower(attrs["rel"])) {
				if rel == "stylesheet" || rel == "icon" || rel == "preload" || rel == "modulepreload" {
					ref = attrs["href"]
				}
			}
		}
		// A data: URL is in the page already: the browser requests nothing.
		if ref != "" && !strings.HasPrefix(strings.ToLower(ref), "data:") && !slices.Contains(r.assets, ref) {
			r.assets = append(r.assets, ref)
		}
	}
	for _, m := range apiRe.FindAllStringSubmatch(html, -1) {
		r.data = append(r.data, m[1])
	}
	r.inline = len(inlineRe.FindAllString(html, -1))
	r.fetchedOnLoad = max(0, len(r.data)-r.inline)
	r.downloads = len(csvRe.FindAllString(html, -1))
	return r
}

// dashboardLinks are the dashboard pages the index at base/ links to.
func dashboardLinks(ctx context.Context, base string) ([]string, error) {
	body, err := get(ctx, base+"/", false)
	if err != nil {
		return nil, err
	}
	var links []string
	for _, m := range regexp.MustCompile(`href="([^"]*e/[^"/]+/d/[^"]+)"`).FindAllStringSubmatch(string(body), -1) {
		if !slices.Contains(links, m[1]) {
			links = append(links, m[1])
		}
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("the index at %s/ links to no dashboard", base)
	}
	return links, nil
}

// pageWeights measures every dashboard the index lists. Assets are
// shared by all pages; assetSizes has each one's raw and gzip size.
func pageWeights(ctx context.Context, base string) ([]pageWeight, map[string][2]int64, error) {
	links, err := dashboardLinks(ctx, base)
	if err != nil {
		return nil, nil, err
	}
	root, err := url.Parse(base + "/")
	if err != nil {
		return nil, nil, err
	}
	assetSizes := map[string][2]int64{}
	var pages []pageWeight
	for _, link := range links {
		u, err := root.Parse(link)
		if err != nil {
			return nil, nil, err
		}
		html, err := get(ctx, u.String(), false)
		if err != nil {
			return nil, nil, err
		}
		gz, err := get(ctx, u.String(), true)
		if err != nil {
			return nil, nil, err
		}
		p := pageWeight{name: u.Path, html: int64(len(html)), htmlGzip: int64(len(gz)), refs: references(string(html))}
		for _, ref := range p.refs.assets {
			a, err := u.Parse(ref)
			if err != nil {
				return nil, nil, err
			}
			if a.Host != u.Host {
				return nil, nil, fmt.Errorf("%s loads %s from another host", u.Path, a)
			}
			sz, ok := assetSizes[a.Path]
			if !ok {
				raw, err := get(ctx, a.String(), false)
				if err != nil {
					return nil, nil, err
				}
				z, err := get(ctx, a.String(), true)
				if err != nil {
					return nil, nil, err
				}
				sz = [2]int64{int64(len(raw)), int64(len(z))}
				assetSizes[a.Path] = sz
			}
			p.assets += sz[0]
			p.assetsZ += sz[1]
		}
		pages = append(pages, p)
	}
	return pages, assetSizes, nil
}

// get is the body of url as sent: with gzip set it asks for gzip and
// returns the compressed bytes (the transport decompresses only what it
// asked for itself).
func get(ctx context.Context, url string, gzip bool) ([]byte, error) {
	body, _, err := getTyped(ctx, url, gzip)
	return body, err
}

// getTyped is get with the response's Content-Type.
func getTyped(ctx context.Context, url string, gzip bool) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	} else {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("get %s: %s: %s", url, resp.Status, tail(body))
	}
	return body, resp.Header.Get("Content-Type"), nil
}
