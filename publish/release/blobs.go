package release

import (
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/bic-dev/bic/publish/storage"
)

// Blobs lists, sorted and without repeats, every blob the release names:
// each chart state's JSON and CSV, each dashboard's page, each asset, and
// any blob key a later field holds. It is what bic gc keeps for a release
// (the release document itself is its caller's to add).
//
// It walks the whole document and takes every string that is a blob key,
// so a field added to Release, Dashboard, Chart or Data is covered without
// a change here: keeping a string that only looks like a blob key keeps
// too much, never too little.
func (r *Release) Blobs() []string {
	seen := map[string]bool{}
	collectBlobs(reflect.ValueOf(r), seen)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func collectBlobs(v reflect.Value, into map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectBlobs(v.Elem(), into)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for i := range v.NumField() {
			collectBlobs(v.Field(i), into)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			collectBlobs(it.Key(), into)
			collectBlobs(it.Value(), into)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			collectBlobs(v.Index(i), into)
		}
	case reflect.String:
		if s := v.String(); isBlobKey(s) {
			into[s] = true
		}
	}
}

var timeType = reflect.TypeFor[time.Time]()

// isBlobKey reports whether s is storage.BlobKey of some hash.
func isBlobKey(s string) bool {
	rest, ok := strings.CutPrefix(s, "blobs/")
	if !ok || len(rest) != 65 || rest[2] != '/' {
		return false
	}
	return storage.BlobKey(rest[:2]+rest[3:]) == s
}
