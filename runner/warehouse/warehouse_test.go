package warehouse

import (
	"testing"
	"time"
)

func TestFormatTime(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	wall := func(s string) time.Time { tm, _ := time.Parse(time.DateTime, s); return tm }
	tests := []struct {
		name    string
		t       time.Time
		hasZone bool
		want    string
	}{
		{"winter wall clock", wall("2025-01-15 10:00:00"), false, "2025-01-15T10:00:00+01:00"},
		{"summer wall clock", wall("2025-07-15 10:00:00"), false, "2025-07-15T10:00:00+02:00"},
		{"spring-forward gap keeps its label", wall("2025-03-30 02:30:00"), false, "2025-03-30T02:30:00+01:00"},
		{"after the gap", wall("2025-03-30 03:10:00"), false, "2025-03-30T03:10:00+02:00"},
		{"an instant shown in the zone", time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC), true, "2025-07-01T12:00:00+02:00"},
	}
	for _, tt := range tests {
		if got := FormatTime(tt.t, tt.hasZone, berlin); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
