// Package queue is bic's job transport: the JetStream work queue that the
// dispatcher publishes job messages to and that runner workers consume
// from, on a real NATS server or on one embedded in the process.
//
// The stream uses work-queue retention and file storage: a message lives
// until one worker acks it (or drops it), and a restarted server, or a
// restarted embedded process on the same directory, still holds every
// message that was not acked. All workers, in any number of processes,
// pull through one durable consumer, so each message goes to one worker at
// a time and is redelivered when that worker neither acks nor reports
// progress within the ack wait.
//
// Every message carries a message id (the Nats-Msg-Id header, the job's
// key): JetStream drops a second publish of the same id inside the
// duplicate window, so a dispatcher that crashes after publishing and
// before recording it can simply publish again. Delivery is still at least
// once (a worker may die after its work and before its ack), so handlers
// must be idempotent, which bic's content-addressed handlers are.
//
// The embedded server ("embedded", the default URL) opens no TCP port and
// the client reaches it through an in-process connection: bic dev needs no
// free port, exposes nothing on the network and has no loopback hop, while
// the code above this package cannot tell it from a real server. Only one
// embedded server may run on a directory (a lock file guards it), so
// everything in one process shares one Queue.
//
// The package knows nothing of jobs' contents: it moves bytes with a kind
// (the subject's last token) and an id. It imports NATS and the standard
// library only, never compiler, publish, server or cmd.
package queue
