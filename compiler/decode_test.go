package compiler

import (
	"context"
	"reflect"
	"testing"
)

// decodeTargets are the types resolve decodes each kind of object into.
var decodeTargets = map[Kind]func() any{
	KindProject: func() any {
		return &struct {
			Project
			Connections map[string]Connection `json:"connections"`
		}{}
	},
	KindDataset:   func() any { return &Dataset{} },
	KindDashboard: func() any { return &dashboardInput{} },
	KindAlert:     func() any { return &Alert{} },
	KindReport:    func() any { return &Report{} },
}

// TestDecodeDirect: decoding a tree straight into a spec gives what the
// JSON round trip gives (value and error), for every object of every
// fixture, example and fuzz input, each also decoded as every other kind
// (trees that do not fit their type).
func TestDecodeDirect(t *testing.T) {
	direct := 0
	for name, fsys := range differentialProjects(t) {
		l := load(context.Background(), fsys, DefaultLimits(), nil, &diagSink{})
		nodes := []*Node{}
		if l.project != nil {
			nodes = append(nodes, l.project)
		}
		for _, o := range l.objects {
			nodes = append(nodes, o.node)
		}
		for _, n := range nodes {
			for kind, target := range decodeTargets {
				got, want := target(), target()
				gotErr, wantErr := decode(n, got), decodeJSON(n, want)
				if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
					t.Errorf("%s: as %s: error %v, want %v", name, kind, gotErr, wantErr)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: as %s: decoded\n%#v\nwant\n%#v", name, kind, got, want)
				}
				if fresh := reflect.New(reflect.TypeOf(got).Elem()); decodeDirect(n, fresh.Elem(), 0) {
					direct++
				}
			}
		}
	}
	if direct < 100 {
		t.Errorf("only %d trees decoded directly", direct)
	}
}
