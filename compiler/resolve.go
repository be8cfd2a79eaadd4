package compiler

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/bic-dev/bic/schema"
)

// resolver checks references between objects and builds the Manifest.
type resolver struct {
	fsys fs.FS
	sink *diagSink
	m    *Manifest

	project     Project
	connections map[string]*ConnectionObject
	datasets    map[string]*DatasetObject
	dashboards  map[string]*DashboardObject
	// cascade holds the objects with errors of their own (or in a file that
	// did not load): references to them are not reported again, but counted
	// in one note.
	cascade *cascade
	// unknownKeys are the places of the keys the schema stage reported as
	// unknown, so a rule about a key that one was meant to be is not
	// reported as well.
	unknownKeys map[Pos]bool
	nodes       map[string]*Node // dataset ID → its tree, for positions
	// memo keeps dashboards' hashes between runs (nil: no cache); pack
	// holds those kept for this context, under packKey.
	memo        *fileCacher
	pack        map[string]dashboardMemo
	packKey     string
	reused      []dashboardMemo
	reusedNames []string
	// skipHashes: nothing will read a hash (checking only, with no cache
	// to keep them in), so none is worked out.
	skipHashes bool

	hashTime time.Duration
}

// hash is contentHash, timed for Stats.
func (r *resolver) hash(kind Kind, spec any, deps map[string]string) string {
	if r.skipHashes {
		return ""
	}
	start := time.Now()
	h := contentHash(kind, spec, deps)
	r.hashTime += time.Since(start)
	return h
}

// resolved is what resolve returns besides the manifest.
type resolved struct {
	hashTime time.Duration
	counts   Counts
	reused   int // dashboards whose verdict was reused
}

func resolve(fsys fs.FS, l *loaded, checked []checkResult, fc *fileCacher, checkOnly bool, sink *diagSink) (*Manifest, resolved) {
	r := &resolver{
		memo:        fc,
		skipHashes:  checkOnly && fc == nil,
		fsys:        fsys,
		sink:        sink,
		m:           &Manifest{},
		connections: map[string]*ConnectionObject{},
		datasets:    map[string]*DatasetObject{},
		dashboards:  map[string]*DashboardObject{},
		cascade:     newCascade(),
		unknownKeys: sink.positions(CodeUnknownKey),
		nodes:       map[string]*Node{},
	}
	r.cascade.unloaded = findUnloaded(l, sink.list)
	r.resolveProject(l.project)

	// Names are unique per kind; the first definition wins.
	byKind := map[Kind][]object{}
	firstAt := map[string]Pos{}
	for i, o := range l.objects {
		id := string(objectID(o.kind, o.name))
		if first, dup := firstAt[id]; dup {
			sink.errorf(o.namePos, CodeDuplicate, "duplicate %s name %q: already defined at %s", o.kind, o.name, first)
			continue
		}
		firstAt[id] = o.namePos
		if checked[i] == checkFailed {
			r.cascade.markFailed(o.kind, o.name, o.namePos)
			continue
		}
		byKind[o.kind] = append(byKind[o.kind], o)
		if o.kind == KindDataset {
			// Others' trees may never be needed (see reuseVerdicts).
			r.nodes[id] = o.tree()
		}
	}
	if l.project != nil && len(l.objects) == 0 {
		sink.errorf(l.project.Pos, CodeEmptyProject, "the project defines no datasets, dashboards, alerts or reports: expected YAML or CUE files under %s", strings.Join(objectDirs, "/, ")+"/")
	}

	r.resolveDatasets(byKind[KindDataset])
	r.loadPack()
	dashboards := byKind[KindDashboard]
	if checkOnly {
		referrers := append(slices.Clip(byKind[KindAlert]), byKind[KindReport]...)
		dashboards = r.reuseVerdicts(dashboards, referrers)
	}
	r.resolveDashboards(dashboards)
	r.resolveAlerts(byKind[KindAlert])
	r.resolveReports(byKind[KindReport])
	r.reportUnchecked()
	r.m.SchemaVersion = schema.Version
	r.m.Project = r.project
	if !checkOnly {
		start := time.Now()
		r.m.Hash = manifestHash(r.m)
		r.hashTime += time.Since(start)
	}
	return r.m, resolved{hashTime: r.hashTime, counts: r.counts(), reused: len(r.reused)}
}

// --- project and connections

var connectionKeys = map[string][]string{
	"postgres":  {"url", "host", "port", "database", "user", "password", "sslmode", "schema"},
	"duckdb":    {"path", "files", "schema"},
	"snowflake": {"account", "user", "password", "private_key", "private_key_path", "authenticator", "warehouse", "database", "schema", "role"},
	"bigquery":  {"project", "dataset", "location", "credentials_file", "credentials_json"},
}

var commonConnectionKeys = []string{"type", "description", "timeout", "max_connections"}

func (r *resolver) resolveProject(n *Node) {
	if n == nil {
		return
	}
	var p struct {
		Project
		Connections map[string]Connection `json:"connections"`
	}
	if err := decode(n, &p); err != nil {
		r.sink.errorf(n.Pos, CodeInvalid, "project: %v", err)
		return
	}
	r.project = p.Project
	r.checkSchedules(n)
	if len(p.Connections) == 0 {
		r.sink.errorf(n.PosAt("connections"), CodeMissingKey, "the project needs at least one connection under connections")
	}
	for _, name := range sortedKeys(p.Connections) {
		c := p.Connections[name]
		c.Name = name
		r.checkConnection(n, &c)
		obj := &ConnectionObject{Meta: Meta{ID: string(ConnectionID(name)), Source: n.KeyPosAt("connections", name)}, Spec: c}
		obj.Hash = r.hash("connection", c, nil)
		r.connections[name] = obj
		r.m.Connections = append(r.m.Connections, *obj)
	}
	if d := r.project.Defaults.Connection; d != "" {
		if _, ok := r.connections[d]; !ok {
			r.sink.errorf(n.PosAt("defaults", "connection"), CodeUnknownRef, "defaults.connection names unknown connection %q%s", d, didYouMean(d, sortedKeys(p.Connections)))
		}
	} else if len(p.Connections) == 1 {
		for name := range p.Connections {
			r.project.Defaults.Connection = name
		}
	}
	for key, raw := range map[string]string{"metadata": p.Metadata, "nats": p.NATS, "storage": p.Storage} {
		if literalSecretInURL(raw) {
			r.sink.errorf(n.PosAt(key), CodeInvalid, "%s: the password in this URL must be a ${env:NAME} reference, not a literal", key)
		}
	}
	if tz := r.project.Defaults.Timezone; tz != "" {
		if err := checkTimezone(tz); err != nil {
			r.sink.errorf(n.PosAt("defaults", "timezone"), CodeInvalid, "defaults.timezone: %v", err)
		}
	} else {
		r.project.Defaults.Timezone = "UTC"
	}
}

func (r *resolver) checkConnection(project *Node, c *Connection) {
	n := project.At("connections", c.Name)
	allowed := append(append([]string{}, commonConnectionKeys...), connectionKeys[c.Type]...)
	for i, key := range n.Keys {
		if !contains(allowed, key) {
			r.sink.errorf(n.Values[i].KeyPos, CodeUnknownKey, "key %q does not apply to a %s connection; it takes %s", key, c.Type, strings.Join(connectionKeys[c.Type], ", "))
		}
	}
	if c.Timeout != "" {
		if _, err := ParseDuration(c.Timeout); err != nil {
			r.sink.errorf(n.PosAt("timeout"), CodeInvalid, "connection %q: %v", c.Name, err)
		}
	}
	switch c.Type {
	case "postgres":
		if c.URL == "" && (c.Host == "" || c.Database == "") {
			r.sink.errorf(n.Pos, CodeMissingKey, "postgres connection %q needs url, or host and database", c.Name)
		}
		if c.URL != "" {
			if c.Host != "" || c.Database != "" || c.Port != 0 || c.User != "" || c.Password != "" {
				r.sink.errorf(n.PosAt("url"), CodeInvalid, "postgres connection %q: give either url or host/port/database/user/password, not both", c.Name)
			}
			r.checkURLSecret(n.PosAt("url"), c.Name, c.URL)
		}
	case "duckdb":
		for _, table := range sortedKeys(c.Files) {
			file := c.Files[table]
			pos := n.PosAt("files", table)
			if path.IsAbs(file) || strings.Contains(file, "..") {
				r.sink.errorf(pos, CodeInvalid, "duckdb connection %q: file %q must be a path inside the project folder", c.Name, file)
				continue
			}
			if ext := path.Ext(file); ext != ".csv" && ext != ".parquet" && ext != ".json" && ext != ".gz" {
				r.sink.errorf(pos, CodeInvalid, "duckdb connection %q: file %q: expected a .csv, .parquet or .json file", c.Name, file)
				continue
			}
			if _, err := fs.Stat(r.fsys, file); err != nil {
				r.sink.errorf(pos, CodeMissingFile, "duckdb connection %q: file %q not found (paths are relative to the project folder)", c.Name, file)
			}
		}
	case "snowflake":
		if c.Account == "" || c.User == "" {
			r.sink.errorf(n.Pos, CodeMissingKey, "snowflake connection %q needs account and user", c.Name)
		}
		auth := 0
		for _, s := range []string{c.Password, c.PrivateKey, c.PrivateKeyPath} {
			if s != "" {
				auth++
			}
		}
		if auth > 1 {
			r.sink.errorf(n.Pos, CodeInvalid, "snowflake connection %q: give one of password, private_key or private_key_path", c.Name)
		}
		if auth == 0 && c.Authenticator != "externalbrowser" && c.Authenticator != "oauth" {
			r.sink.errorf(n.Pos, CodeMissingKey, "snowflake connection %q needs password, private_key or private_key_path (or authenticator externalbrowser or oauth)", c.Name)
		}
	case "bigquery":
		if c.Project == "" {
			r.sink.errorf(n.Pos, CodeMissingKey, "bigquery connection %q needs project", c.Name)
		}
		if c.CredentialsFile != "" && c.CredentialsJSON != "" {
			r.sink.errorf(n.PosAt("credentials_json"), CodeInvalid, "bigquery connection %q: give credentials_file or credentials_json, not both", c.Name)
		}
	}
}

// checkURLSecret checks a postgres URL: its scheme, and that it spells out
// no password: secrets are only ever ${env:NAME} references.
func (r *resolver) checkURLSecret(pos Pos, conn, raw string) {
	if secretRE.MatchString(raw) {
		return
	}
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		found := raw
		if scheme, _, ok := strings.Cut(raw, "://"); ok {
			found = scheme + "://"
		}
		r.sink.errorf(pos, CodeInvalid, "connection %q: url must start with postgres:// or postgresql://, found %q", conn, found)
		return
	}
	if literalSecretInURL(raw) {
		r.sink.errorf(pos, CodeInvalid, "connection %q: the password in url must be a ${env:NAME} reference, not a literal", conn)
	}
}

// literalSecretInURL reports a URL whose userinfo password, or password,
// secret_key or token query parameter, is written out instead of ${env:…}.
func literalSecretInURL(raw string) bool {
	// References become one opaque word, so their own ':' do not count.
	raw = envRefRE.ReplaceAllString(raw, envToken)
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		// The userinfo is in the authority, before the path or query.
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok && pw != "" && pw != envToken {
				return true
			}
		}
	}
	_, query, _ := strings.Cut(raw, "?")
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "password", "secret_key", "secret", "token", "access_key_secret":
			if v != "" && v != envToken {
				return true
			}
		}
	}
	return false
}

const envToken = "\x00env\x00"

// connectionFor resolves a dataset's connection, reporting when it names none.
func (r *resolver) connectionFor(n *Node, name string) (*ConnectionObject, bool) {
	if name == "" {
		name = r.project.Defaults.Connection
		if name == "" {
			if len(r.connections) > 0 {
				r.sink.errorf(n.Pos, CodeMissingKey, "dataset %q names no connection and the project has no defaults.connection; expected one of %s", n.Get("dataset").String(), strings.Join(sortedKeys(r.connections), ", "))
			}
			return nil, false
		}
	}
	c, ok := r.connections[name]
	if !ok {
		if fromDefault := n.Get("connection") == nil; !fromDefault && (len(r.connections) > 0 || r.project.Name != "") {
			r.sink.errorf(n.PosAt("connection"), CodeUnknownRef, "unknown connection %q%s", name, didYouMean(name, sortedKeys(r.connections)))
		}
		return nil, false
	}
	return c, true
}

// --- datasets

var refRE = regexp.MustCompile(`\$\{ref:([^}]*)\}`)

// ReplaceRefs replaces every ${ref:NAME} in a dataset's SQL with
// repl(NAME): the query planner inlines the referenced datasets with it.
func ReplaceRefs(sql string, repl func(name string) string) string {
	return refRE.ReplaceAllStringFunc(sql, func(ref string) string {
		return repl(refRE.FindStringSubmatch(ref)[1])
	})
}

func (r *resolver) resolveDatasets(objs []object) {
	specs := map[string]*Dataset{}
	conns := map[string]*ConnectionObject{}
	for _, o := range objs {
		n := o.tree()
		var d Dataset
		if err := decode(n, &d); err != nil {
			r.sink.errorf(n.Pos, CodeInvalid, "dataset %q: %v", o.name, err)
			r.cascade.markFailed(KindDataset, o.name, n.PosAt(string(KindDataset)))
			continue
		}
		typo := r.misspelt(n, datasetKeys)
		switch {
		case d.SQL == "" && d.Table == "" && (typo["sql"] != nil || typo["table"] != nil):
		case d.SQL == "" && d.Table == "":
			r.sink.errorf(n.Pos, CodeMissingKey, "dataset %q needs sql or table", d.Name)
		case d.SQL != "" && d.Table != "":
			r.sink.errorf(n.PosAt("table"), CodeInvalid, "dataset %q has both sql and table; keep one", d.Name)
		}
		conn, ok := r.connectionFor(n, d.Connection)
		if ok {
			d.Connection = conn.Spec.Name
			conns[d.Name] = conn
		}
		if len(d.Metrics) == 0 {
			r.sink.errorf(n.PosAt("metrics"), CodeMissingKey, "dataset %q defines no metrics; a chart needs at least one, such as count: {expr: count(*)}", d.Name)
		}
		for name, dim := range d.Dimensions {
			if _, clash := d.Metrics[name]; clash {
				r.sink.errorf(n.KeyPosAt("metrics", name), CodeDuplicate, "dataset %q: %q is both a dimension and a metric; rename one", d.Name, name)
			}
			if dim.Expr == "" {
				if sqlKeywords[name] {
					r.sink.errorf(n.KeyPosAt("dimensions", name), CodeInvalid, "dataset %q: dimension %q is an SQL keyword, so it cannot stand as a bare column; give it an expr with the column quoted for the warehouse, such as expr: '\"%s\"'", d.Name, name, name)
				}
				dim.Expr = name
			}
			if dim.Label == "" {
				dim.Label = humanize(name)
			}
			d.Dimensions[name] = dim
		}
		for name, met := range d.Metrics {
			if met.Format == "" {
				met.Format = "number"
			}
			if met.Label == "" {
				met.Label = humanize(name)
			}
			if met.Currency != "" && met.Format != "currency" {
				r.sink.errorf(n.PosAt("metrics", name, "currency"), CodeInvalid, "metric %q: currency applies only with format: currency", name)
			}
			d.Metrics[name] = met
		}
		if d.Refresh != "" {
			if err := checkCron(d.Refresh); err != nil {
				r.sink.errorf(n.PosAt("refresh"), CodeInvalid, "dataset %q: invalid refresh schedule %q: %v", d.Name, d.Refresh, err)
			}
		}
		r.checkCatchup(n, d.Name, d.Catchup, d.Refresh)
		for _, m := range refRE.FindAllStringSubmatch(d.SQL, -1) {
			if !contains(d.Refs, m[1]) {
				d.Refs = append(d.Refs, m[1])
			}
		}
		sort.Strings(d.Refs)
		specs[d.Name] = &d
	}
	// Refs must exist, share the connection, and not form a cycle.
	for _, name := range sortedKeys(specs) {
		d := specs[name]
		n := r.nodes[string(DatasetID(name))]
		for _, ref := range d.Refs {
			target, ok := specs[ref]
			switch {
			case !ok && r.unchecked(KindDataset, ref, n.PosAt("sql")):
			case !ok:
				r.sink.errorf(n.PosAt("sql"), CodeUnknownRef, "dataset %q: ${ref:%s} names unknown dataset %q%s", name, ref, ref, didYouMean(ref, sortedKeys(specs)))
			case target.Connection != d.Connection:
				r.sink.errorf(n.PosAt("sql"), CodeInvalid, "dataset %q: ${ref:%s} is on connection %q, not %q; a query cannot join across connections", name, ref, target.Connection, d.Connection)
			}
		}
	}
	order, cycles := topoSort(specs)
	for _, cycle := range cycles {
		n := r.nodes[string(DatasetID(cycle[0]))]
		r.sink.errorf(n.PosAt("sql"), CodeCycle, "datasets refer to each other in a cycle: %s", strings.Join(append(cycle, cycle[0]), " → "))
	}
	for _, name := range order {
		d := specs[name]
		deps := map[string]string{}
		var dependsOn []string
		if c := conns[name]; c != nil {
			deps[c.ID] = c.Hash
			dependsOn = append(dependsOn, c.ID)
		}
		for _, ref := range d.Refs {
			if t, ok := r.datasets[ref]; ok {
				deps[t.ID] = t.Hash
				dependsOn = append(dependsOn, t.ID)
			}
		}
		n := r.nodes[string(DatasetID(name))]
		obj := &DatasetObject{Meta: Meta{ID: string(DatasetID(name)), DependsOn: dependsOn, Source: n.PosAt("dataset")}, Spec: *d}
		obj.Hash = r.hash(KindDataset, obj.Spec, deps)
		r.datasets[name] = obj
		r.m.Datasets = append(r.m.Datasets, *obj)
	}
}

// topoSort orders datasets so that each comes after those it refers to,
// and returns every cycle found (each once, starting at its smallest name).
func topoSort(specs map[string]*Dataset) (order []string, cycles [][]string) {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	seenCycle := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		state[name] = active
		stack = append(stack, name)
		for _, ref := range specs[name].Refs {
			if _, ok := specs[ref]; !ok {
				continue
			}
			switch state[ref] {
			case unseen:
				visit(ref)
			case active:
				i := len(stack) - 1
				for stack[i] != ref {
					i--
				}
				cycle := rotateToMin(append([]string{}, stack[i:]...))
				if key := strings.Join(cycle, ","); !seenCycle[key] {
					seenCycle[key] = true
					cycles = append(cycles, cycle)
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		order = append(order, name)
	}
	for _, name := range sortedKeys(specs) {
		if state[name] == unseen {
			visit(name)
		}
	}
	return order, cycles
}

func rotateToMin(s []string) []string {
	m := 0
	for i := range s {
		if s[i] < s[m] {
			m = i
		}
	}
	return append(s[m:], s[:m]...)
}

// IsSQLKeyword reports whether w is reserved in at least one of the
// warehouses bic writes SQL for, so a dimension of that name needs an expr.
func IsSQLKeyword(w string) bool { return sqlKeywords[w] }

// sqlKeywords are words reserved in at least one of the warehouses bic
// writes SQL for; a dimension named after one needs an explicit expr.
var sqlKeywords = wordSet(`all analyse analyze and any array as asc asymmetric at authorization between
		both by case cast check collate column constraint create cross current_catalog current_date
		current_role current_schema current_time current_timestamp current_user default deferrable desc
		distinct do else end except exists false fetch for foreign from full grant group having ilike in
		initially inner intersect interval into is join lateral leading left like limit localtime
		localtimestamp natural not null offset on only or order outer over partition placing primary
		qualify references returning right row rows select session_user some symmetric table tablesample
		then to trailing true union unique unnest user using variadic when where window with`)

func wordSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

// humanize turns order_date into "Order date" for default labels.
func humanize(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
