package metadata

// The lifecycle's states, as the metadata database stores them (its CHECK
// constraints allow exactly these). docs/lifecycle.md draws the machines.

// RevisionStatus is where a revision is in its life.
//
//	pending ──publish job done──▶ live ──a newer revision goes live──▶ superseded
//	   └──────a job failed for good──▶ failed
type RevisionStatus string

const (
	// RevisionPending: applied, its jobs not all done.
	RevisionPending RevisionStatus = "pending"
	// RevisionLive: its publish job is done; its release is the one served.
	RevisionLive RevisionStatus = "live"
	// RevisionFailed: one of its jobs failed for good; it never went live.
	RevisionFailed RevisionStatus = "failed"
	// RevisionSuperseded: it was live (or would have been) and a newer
	// revision went live.
	RevisionSuperseded RevisionStatus = "superseded"
)

func (s RevisionStatus) String() string { return string(s) }

// JobStatus is where a job of the outbox is in its life.
//
//	pending ──claim + dispatch──▶ dispatched ──▶ running ──▶ done
//	   ▲                                          │
//	   └──────fail with attempts left (run_at)────┤
//	                                              └──no attempts left──▶ failed
type JobStatus string

const (
	// JobPending: waiting for its dependencies, its run_at, or a claim.
	JobPending JobStatus = "pending"
	// JobDispatched: handed to the queue, not started.
	JobDispatched JobStatus = "dispatched"
	// JobRunning: a runner works on it.
	JobRunning JobStatus = "running"
	// JobDone: computed; the jobs that wait for it may run.
	JobDone JobStatus = "done"
	// JobFailed: failed for good, after its last attempt.
	JobFailed JobStatus = "failed"
)

func (s JobStatus) String() string { return string(s) }

// EnvKind says whether an environment lives until destroyed or expires.
type EnvKind string

const (
	// EnvPersistent: prod, staging; removed only by destroy --force.
	EnvPersistent EnvKind = "persistent"
	// EnvPreview: pr-42; diffed against a base, removed by gc when expired.
	EnvPreview EnvKind = "preview"
)

func (k EnvKind) String() string { return string(k) }
