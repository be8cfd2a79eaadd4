// Package schedule turns the cron schedules of alerts, reports and dataset
// refreshes into queue messages, once per tick however many runners run:
// Parse and Schedule give the ticks of a cron expression in a time zone
// (with daylight-saving time handled as Vixie cron does), Due picks the one
// tick to run now under a catch-up policy, and Scheduler claims it in the
// metadata DB and publishes it on the JetStream work queue.
//
// It reads the metadata DB and publishes to the queue only through the
// small interfaces it defines (Store, Publisher); it must not import a
// warehouse, a renderer or a notifier: the worker that handles its
// messages does that work.
package schedule
