package superset

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// connection is a bic connection made from a Superset database.
type connection struct {
	name    string
	dialect string // the bic connection type
	src     *doc   // nil for the placeholder of datasets whose database is missing
	title   string // Superset's database_name
	body    node
	todo    string // why the user must finish it, when bic does not support the database
}

// envName is the environment variable prefix for a connection's secrets.
func envName(conn string) string { return strings.ToUpper(conn) }

// translateDatabase turns databases/NAME.yaml into a connection. The URI's
// password (Superset exports it masked as XXXXXXXXXX) becomes a ${env:…}
// reference; it is never written. A database bic cannot query becomes a
// postgres connection whose URL is an ${env:…} reference, for the user to
// point at a warehouse bic supports.
func (im *importer) translateDatabase(d *doc) *connection {
	title := str(d.root, "database_name")
	c := &connection{name: im.connNames.take(slug(title, "db")), src: d, title: title}
	raw := str(d.root, "sqlalchemy_uri")
	u, err := url.Parse(raw)
	scheme := ""
	if err == nil && u.Opaque == "" && !strings.Contains(u.Path, "@") {
		// A URI whose user info did not parse as such (postgresql:/u:p@h)
		// could put a password anywhere: it is not read.
		scheme = strings.ToLower(u.Scheme)
	}
	driver, _, _ := strings.Cut(scheme, "+")
	env := envName(c.name)
	obj := fmt.Sprintf("database %q", title)
	switch driver {
	case "postgresql", "postgres", "redshift", "cockroachdb":
		c.dialect = "postgres"
		c.body.set("type", "postgres")
		if u.Hostname() != "" {
			c.body.set("host", u.Hostname())
		}
		if p, err := strconv.Atoi(u.Port()); err == nil && p > 0 && p < 65536 {
			c.body.set("port", p)
		}
		db := strings.TrimPrefix(u.Path, "/")
		if db == "" {
			db = "postgres"
		}
		c.body.set("database", db)
		if u.User != nil && u.User.Username() != "" {
			c.body.set("user", u.User.Username())
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				c.body.set("password", "${env:"+env+"_PASSWORD}")
			}
		}
		if m := u.Query().Get("sslmode"); slices.Contains([]string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, m) {
			c.body.set("sslmode", m)
		}
		if u.Hostname() == "" {
			// A socket or an empty host: bic needs one.
			c.body = setKey(c.body, "host", "localhost")
			im.warn(d, "sqlalchemy_uri", obj, "the URI names no host; the connection uses localhost")
		}
		if driver != "postgresql" && driver != "postgres" {
			im.warn(d, "sqlalchemy_uri", obj, fmt.Sprintf("%s speaks the PostgreSQL protocol; bic queries it as postgres, check the SQL of its datasets", driver))
		}
	case "duckdb":
		c.dialect = "duckdb"
		c.body.set("type", "duckdb")
		// duckdb:///relative.db, duckdb:////abs/path.db, duckdb:///:memory:
		p := strings.TrimPrefix(raw[len(u.Scheme)+1:], "//")
		p = strings.TrimPrefix(p, "/")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if p != "" && p != ":memory:" {
			c.body.set("path", p)
		}
	case "snowflake":
		c.dialect = "snowflake"
		c.body.set("type", "snowflake")
		c.body.set("account", u.Host)
		user := ""
		if u.User != nil {
			user = u.User.Username()
		}
		if user == "" {
			user = "${env:" + env + "_USER}"
			im.warn(d, "sqlalchemy_uri", obj, "the URI names no user; set "+env+"_USER")
		}
		c.body.set("user", user)
		c.body.set("password", "${env:"+env+"_PASSWORD}")
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if parts[0] != "" {
			c.body.set("database", parts[0])
		}
		if len(parts) > 1 && parts[1] != "" {
			c.body.set("schema", parts[1])
		}
		for _, k := range []string{"warehouse", "role"} {
			if v := u.Query().Get(k); v != "" {
				c.body.set(k, v)
			}
		}
	case "bigquery":
		c.dialect = "bigquery"
		c.body.set("type", "bigquery")
		c.body.set("project", u.Host)
		if ds := strings.Trim(u.Path, "/"); ds != "" {
			c.body.set("dataset", ds)
		}
		c.body.set("credentials_json", "${env:"+env+"_CREDENTIALS}")
		im.warn(d, "sqlalchemy_uri", obj, "Superset does not export BigQuery credentials; set "+env+"_CREDENTIALS to the service account's JSON key")
	default:
		if driver == "" {
			driver = "an unreadable URI"
		}
		c.dialect = "postgres"
		c.todo = fmt.Sprintf("bic cannot query %s databases: point %s_URL at a PostgreSQL database holding the same tables, or change this connection to a duckdb, snowflake or bigquery one", driver, env)
		c.body.set("type", "postgres")
		c.body.set("url", "${env:"+env+"_URL}")
		im.warn(d, "sqlalchemy_uri", obj, fmt.Sprintf("bic does not support %s; connection %q is a placeholder to finish (its url is ${env:%s_URL})", driver, c.name, env))
	}
	if desc := redactedURI(raw); desc != "" {
		text := fmt.Sprintf("Superset database %q (%s).", title, desc)
		if c.todo != "" {
			text += " TODO: " + c.todo + "."
		}
		c.body = append(node{{key: "type", value: c.body[0].value}, {key: "description", value: text}}, c.body[1:]...)
	}
	return c
}

// setKey replaces or appends key in n.
func setKey(n node, key string, v any) node {
	for i := range n {
		if n[i].key == key {
			n[i].value = v
			return n
		}
	}
	return append(n, field{key: key, value: v})
}

// redactedURI is the database's URI without its password and query, for a
// description.
func redactedURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" || strings.Contains(u.Path, "@") {
		return "" // "scheme:rest" may hold anything, a password too
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery = ""
	u.Fragment = ""
	// Superset's mask of a password, wherever a mangled URI puts it.
	return strings.ReplaceAll(u.String(), "XXXXXXXXXX", "…")
}
