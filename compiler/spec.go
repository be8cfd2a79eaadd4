package compiler

// The types below are the normalized objects of a Manifest. Their JSON is
// canonical: it is what is hashed, stored and diffed.

// Project is the bic.yaml settings.
type Project struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Defaults    Defaults `json:"defaults"`
	Metadata    string   `json:"metadata,omitempty"`
	NATS        string   `json:"nats,omitempty"`
	Storage     string   `json:"storage,omitempty"`
	// Schedules are the environments whose alerts, reports and dataset
	// refreshes run for real; nil means [prod] (see RunsSchedules). Every other
	// environment (a preview) evaluates alerts and reports in a dry run,
	// sending nothing, and refreshes no dataset.
	Schedules []string `json:"schedules,omitempty"`
}

// Catch-up policies: what a schedule runs after a downtime that missed
// ticks. "" is CatchupLatest.
const (
	// CatchupLatest runs the latest missed tick once.
	CatchupLatest = "latest"
	// CatchupSkip runs nothing until the next tick.
	CatchupSkip = "skip"
)

// Defaults apply where an object leaves a setting out.
type Defaults struct {
	Connection string `json:"connection,omitempty"`
	Timezone   string `json:"timezone,omitempty"`
}

// Connection is a warehouse: its type and settings. Secrets stay ${env:…} references.
type Connection struct {
	Name            string            `json:"name"`
	Type            string            `json:"type"`
	Description     string            `json:"description,omitempty"`
	URL             string            `json:"url,omitempty"`
	Host            string            `json:"host,omitempty"`
	Port            int               `json:"port,omitempty"`
	Database        string            `json:"database,omitempty"`
	User            string            `json:"user,omitempty"`
	Password        string            `json:"password,omitempty"`
	SSLMode         string            `json:"sslmode,omitempty"`
	Schema          string            `json:"schema,omitempty"`
	Path            string            `json:"path,omitempty"`
	Files           map[string]string `json:"files,omitempty"`
	Account         string            `json:"account,omitempty"`
	Warehouse       string            `json:"warehouse,omitempty"`
	Role            string            `json:"role,omitempty"`
	PrivateKey      string            `json:"private_key,omitempty"`
	PrivateKeyPath  string            `json:"private_key_path,omitempty"`
	Authenticator   string            `json:"authenticator,omitempty"`
	Project         string            `json:"project,omitempty"`
	Dataset         string            `json:"dataset,omitempty"`
	Location        string            `json:"location,omitempty"`
	CredentialsFile string            `json:"credentials_file,omitempty"`
	CredentialsJSON string            `json:"credentials_json,omitempty"`
	Timeout         string            `json:"timeout,omitempty"`
	MaxConnections  int               `json:"max_connections,omitempty"`
}

// Dataset is a connection plus a table or query, with typed dimensions and metrics.
type Dataset struct {
	Name        string               `json:"dataset"`
	Description string               `json:"description,omitempty"`
	Connection  string               `json:"connection"`
	SQL         string               `json:"sql,omitempty"`
	Table       string               `json:"table,omitempty"`
	Dimensions  map[string]Dimension `json:"dimensions"`
	Metrics     map[string]Metric    `json:"metrics"`
	Refresh     string               `json:"refresh,omitempty"`
	Catchup     string               `json:"catchup,omitempty"` // of the refresh: CatchupLatest ("") or CatchupSkip
	TTL         string               `json:"ttl,omitempty"`
	// Refs are the datasets that SQL reads through ${ref:NAME}, sorted.
	Refs []string `json:"refs,omitempty"`
}

// Dimension is a column or expression to group and filter by.
type Dimension struct {
	Type        string `json:"type"`
	Expr        string `json:"expr"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
}

// Metric is an aggregate expression.
type Metric struct {
	Expr        string `json:"expr"`
	Format      string `json:"format"`
	Currency    string `json:"currency,omitempty"`
	Decimals    *int   `json:"decimals,omitempty"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
}

// Dashboard is a page of charts with filters and a layout.
type Dashboard struct {
	Name        string   `json:"dashboard"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Filters     []Filter `json:"filters,omitempty"`
	Charts      []Chart  `json:"charts"`
	Layout      [][]Cell `json:"layout"`
	Tags        []string `json:"tags,omitempty"`
	// Precompute bounds the filter states beyond the default that apply
	// computes; nil means DefaultPrecompute.
	Precompute *int `json:"precompute,omitempty"`
}

// Cell places a chart in a row of a 12-column grid.
type Cell struct {
	Chart  string `json:"chart"`
	Width  int    `json:"width"`
	Height int    `json:"height,omitempty"`
}

// Filter is a dashboard control bound to a dataset dimension.
type Filter struct {
	Name      string `json:"name"`
	Label     string `json:"label"`
	Dataset   string `json:"dataset"`
	Dimension string `json:"dimension"`
	Type      string `json:"type"`
	Default   any    `json:"default,omitempty"`
	Values    []any  `json:"values,omitempty"`
	Required  bool   `json:"required,omitempty"`
	// Charts are the charts of the dashboard the filter applies to.
	Charts []string `json:"charts"`
}

// Chart is a semantic query and how to draw it.
type Chart struct {
	Name        string      `json:"name"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	Type        string      `json:"type"`
	Dataset     string      `json:"dataset"`
	Metrics     []string    `json:"metrics"`
	Dimensions  []string    `json:"dimensions,omitempty"`
	X           string      `json:"x,omitempty"`
	Grain       string      `json:"grain,omitempty"`
	Sort        []string    `json:"sort,omitempty"`
	Limit       int         `json:"limit"`
	Where       []Condition `json:"where,omitempty"`
	TimeRange   string      `json:"time_range,omitempty"`
	// TimeDimension is the dimension that time_range, compare and date
	// filters restrict: x when it is a time dimension, else the dataset's
	// only time dimension.
	TimeDimension string         `json:"time_dimension,omitempty"`
	Compare       string         `json:"compare,omitempty"`
	Options       map[string]any `json:"options,omitempty"`
}

// Condition is a fixed predicate on a dimension.
type Condition struct {
	Dimension string `json:"dimension"`
	Op        string `json:"op"`
	Value     any    `json:"value,omitempty"`
}

// Alert evaluates a metric on a schedule and notifies when its condition holds.
type Alert struct {
	Name        string      `json:"alert"`
	Description string      `json:"description,omitempty"`
	Dataset     string      `json:"dataset"`
	Metric      string      `json:"metric"`
	Where       []Condition `json:"where,omitempty"`
	Period      string      `json:"period"`
	// TimeDimension places rows in periods.
	TimeDimension string         `json:"time_dimension,omitempty"`
	Condition     AlertCondition `json:"condition"`
	Schedule      string         `json:"schedule"`
	Timezone      string         `json:"timezone"`
	Cooldown      string         `json:"cooldown,omitempty"`
	Catchup       string         `json:"catchup,omitempty"` // CatchupLatest ("") or CatchupSkip
	Notify        []Notify       `json:"notify"`
	Image         string         `json:"image,omitempty"`
}

// AlertCondition is a threshold, a change against the previous period, or no data.
type AlertCondition struct {
	Op      string   `json:"op,omitempty"`
	Value   *float64 `json:"value,omitempty"`
	Change  string   `json:"change,omitempty"`
	Percent float64  `json:"percent,omitempty"`
	NoData  bool     `json:"no_data,omitempty"`
}

// Notify is one channel a notification goes to.
type Notify struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
	// Secret signs a webhook's requests: a ${env:NAME} reference, which
	// only the runner that sends expands.
	Secret     string   `json:"secret,omitempty"`
	WebhookURL string   `json:"webhook_url,omitempty"`
	Channel    string   `json:"channel,omitempty"`
	To         []string `json:"to,omitempty"`
	Subject    string   `json:"subject,omitempty"`
}

// Report delivers a dashboard or a chart on a schedule.
type Report struct {
	Name        string         `json:"report"`
	Description string         `json:"description,omitempty"`
	Dashboard   string         `json:"dashboard,omitempty"`
	Chart       string         `json:"chart,omitempty"`
	Schedule    string         `json:"schedule"`
	Timezone    string         `json:"timezone"`
	Catchup     string         `json:"catchup,omitempty"` // CatchupLatest ("") or CatchupSkip
	Format      string         `json:"format"`
	Filters     map[string]any `json:"filters,omitempty"`
	Notify      []Notify       `json:"notify"`
}
