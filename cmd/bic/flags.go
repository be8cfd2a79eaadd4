package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// revisionFlag is a revision number flag whose error says what a revision
// number is, not how strconv failed.
type revisionFlag int

func (r *revisionFlag) String() string {
	if *r == 0 {
		return ""
	}
	return strconv.Itoa(int(*r))
}

func (r *revisionFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("expected a revision number from bic history, such as 3")
	}
	*r = revisionFlag(n)
	return nil
}

func (r *revisionFlag) Type() string { return "N" }

// parseNow reads --now: an RFC 3339 time, or a date (midnight in the
// project's time zone).
func parseNow(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--now %s: expected a time such as 2026-01-15T10:00:00Z or a date such as 2026-01-15", strconv.Quote(excerptArg(s)))
}

// excerptArg shortens a command-line value for an error message.
func excerptArg(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// envNameRE is an environment name: lower case letters, digits, - and _.
var envNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// envNameFlag is --env: checked when it is set, so that --env ” (an
// unset CI variable, say) is refused instead of meaning "no environment".
type envNameFlag struct{ name *string }

func (e envNameFlag) String() string {
	if e.name == nil {
		return ""
	}
	return *e.name
}

func (e envNameFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("expected an environment name such as prod or pr-42, found an empty value")
	}
	if !envNameRE.MatchString(s) {
		return fmt.Errorf("expected lower case letters, digits, - and _ (at most 63), such as prod or pr-42")
	}
	*e.name = s
	return nil
}

func (e envNameFlag) Type() string { return "NAME" }
