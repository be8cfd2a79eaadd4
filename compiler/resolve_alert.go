package compiler

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

func (r *resolver) resolveAlerts(objs []object) {
	for _, o := range objs {
		n := o.tree()
		var a Alert
		if err := decode(n, &a); err != nil {
			r.sink.errorf(n.Pos, CodeInvalid, "alert %q: %v", o.name, err)
			continue
		}
		what := fmt.Sprintf("alert %q", a.Name)
		errs := r.sink.errorCount()
		typo := r.misspelt(n, alertKeys)
		deps := map[string]string{}
		ds, ok := r.dataset(n.PosAt("dataset"), a.Dataset, what)
		if ok {
			deps[ds.ID] = ds.Hash
			if _, ok := ds.Spec.Metrics[a.Metric]; !ok {
				r.sink.errorf(n.PosAt("metric"), CodeUnknownRef, "%s: dataset %q has no metric %q%s", what, a.Dataset, a.Metric, r.hintMetric(ds.Spec, a.Metric))
			}
			r.checkConditions(n, what, ds.Spec, a.Where)
			if a.Period == "" {
				a.Period = "day"
			}
			times := timeDimensions(ds.Spec)
			switch {
			case a.TimeDimension != "":
				if d, ok := ds.Spec.Dimensions[a.TimeDimension]; !ok || d.Type != "time" {
					r.sink.errorf(n.PosAt("time_dimension"), CodeUnknownRef, "%s: time_dimension: dataset %q has no time dimension %q; it has %s", what, a.Dataset, a.TimeDimension, ListOr(times))
				}
			case len(times) == 1:
				a.TimeDimension = times[0]
			case len(times) == 0:
				r.sink.errorf(n.PosAt("dataset"), CodeInvalid, "%s: dataset %q has no time dimension, so there is no period to evaluate the metric over", what, a.Dataset)
			case typo["time_dimension"] != nil:
			default:
				r.sink.errorf(n.Pos, CodeMissingKey, "%s: dataset %q has several time dimensions; name one with time_dimension: %s", what, a.Dataset, ListOr(times))
			}
		}
		r.checkCondition(n.At("condition"), what, a.Condition)
		r.checkSchedule(n, what, a.Schedule, &a.Timezone)
		if a.Cooldown != "" {
			if _, err := ParseDuration(a.Cooldown); err != nil {
				r.sink.errorf(n.PosAt("cooldown"), CodeInvalid, "%s: %v", what, err)
			}
		}
		r.checkNotify(n, what, a.Notify)
		if a.Image != "" {
			if c, ok := r.chartRef(n.PosAt("image"), what, a.Image); ok {
				deps[c.ID] = c.Hash
			}
		}
		if r.sink.errorCount() != errs {
			continue
		}
		r.m.Alerts = append(r.m.Alerts, AlertObject{
			Meta: Meta{ID: string(AlertID(a.Name)), DependsOn: sortedKeys(deps), Reads: []string{string(ProjectID(r.project.Name))}, Source: n.PosAt("alert")},
			Spec: a,
		})
		r.m.Alerts[len(r.m.Alerts)-1].Hash = r.hash(KindAlert, alertInputs{Spec: a, Project: r.project.inputs()}, deps)
	}
}

func (r *resolver) checkCondition(n *Node, what string, c AlertCondition) {
	variants := 0
	if c.Op != "" || c.Value != nil {
		variants++
		if c.Op == "" {
			r.sink.errorf(n.Pos, CodeMissingKey, "%s: condition has a value but no op; expected op: >, >=, <, <=, == or !=", what)
		} else if c.Value == nil {
			r.sink.errorf(n.Pos, CodeMissingKey, "%s: condition op %s needs a value", what, c.Op)
		}
	}
	if c.Change != "" || c.Percent != 0 {
		variants++
		if c.Change == "" {
			r.sink.errorf(n.Pos, CodeMissingKey, "%s: condition has percent but no change; expected change: drop, rise or any", what)
		} else if c.Percent == 0 {
			r.sink.errorf(n.Pos, CodeMissingKey, "%s: condition change %s needs percent, such as percent: 20", what, c.Change)
		}
	}
	if c.NoData {
		variants++
	}
	switch {
	case variants == 0:
		r.sink.errorf(n.Pos, CodeMissingKey, "%s: condition needs one of: op and value (a threshold), change and percent (against the previous period), or no_data: true", what)
	case variants > 1:
		r.sink.errorf(n.Pos, CodeInvalid, "%s: condition mixes kinds; give only one of: op and value, change and percent, or no_data", what)
	}
}

func (r *resolver) checkSchedule(n *Node, what, schedule string, tz *string) {
	if err := checkCron(schedule); err != nil {
		r.sink.errorf(n.PosAt("schedule"), CodeInvalid, "%s: invalid schedule %q: %v", what, schedule, err)
	}
	if *tz == "" {
		*tz = r.project.Defaults.Timezone
		if *tz == "" {
			*tz = "UTC"
		}
		return
	}
	if err := checkTimezone(*tz); err != nil {
		r.sink.errorf(n.PosAt("timezone"), CodeInvalid, "%s: %v", what, err)
	}
}

var notifyKeys = map[string][]string{
	"webhook": {"url", "secret"},
	"slack":   {"webhook_url", "channel"},
	"email":   {"to", "subject"},
}

func (r *resolver) checkNotify(n *Node, what string, list []Notify) {
	if len(list) == 0 {
		r.sink.errorf(n.PosAt("notify"), CodeMissingKey, "%s: notify lists no channel; add a webhook, slack or email entry", what)
	}
	for i, c := range list {
		cn := n.At("notify", i)
		allowed := append([]string{"type"}, notifyKeys[c.Type]...)
		for j, key := range cn.Keys {
			if !contains(allowed, key) {
				r.sink.errorf(cn.Values[j].KeyPos, CodeUnknownKey, "%s: key %q does not apply to %s notification; it takes %s", what, key, article(c.Type), strings.Join(notifyKeys[c.Type], ", "))
			}
		}
		switch c.Type {
		case "webhook":
			r.checkHTTPURL(cn, what, "url", c.URL)
		case "slack":
			r.checkHTTPURL(cn, what, "webhook_url", c.WebhookURL)
		case "email":
			if len(c.To) == 0 {
				r.sink.errorf(cn.Pos, CodeMissingKey, "%s: an email notification needs to, a list of addresses", what)
			}
		}
	}
}

func indexOfFilter(filters []Filter, name string) int {
	for i, f := range filters {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// article puts "a" or "an" before a word.
func article(word string) string {
	if strings.ContainsAny(word[:1], "aeiou") {
		return "an " + word
	}
	return "a " + word
}

func (r *resolver) checkHTTPURL(n *Node, what, key, raw string) {
	switch {
	case raw == "":
		r.sink.errorf(n.Pos, CodeMissingKey, "%s: a %s notification needs %s", what, n.Get("type").String(), key)
		return
	case secretRE.MatchString(raw):
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		r.sink.errorf(n.PosAt(key), CodeInvalid, "%s: %s: expected an http(s) URL or a ${env:NAME} reference, found %s", what, key, quote(RedactURL(raw)))
		return
	}
	if strings.Contains(u.Host, "hooks.slack.com") || u.User != nil {
		r.sink.warnf(n.PosAt(key), CodeInvalid, "%s: %s looks like it holds a secret; keep it in the environment as ${env:NAME}", what, key)
	}
}

// chartRef resolves DASHBOARD/CHART.
func (r *resolver) chartRef(pos Pos, what, ref string) (ChartObject, bool) {
	dash, chart, _ := strings.Cut(ref, "/")
	if _, ok := r.dashboards[dash]; !ok {
		if !r.unchecked(KindDashboard, dash, pos) {
			r.sink.errorf(pos, CodeUnknownRef, "%s: %q names unknown dashboard %q%s", what, ref, dash, didYouMean(dash, r.dashboardNames()))
		}
		return ChartObject{}, false
	}
	if c, ok := r.m.Chart(ref); ok {
		return c, true
	}
	var names []string
	for _, c := range r.dashboards[dash].Spec.Charts {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	if !contains(names, chart) {
		r.sink.errorf(pos, CodeUnknownRef, "%s: dashboard %q has no chart %q%s", what, dash, chart, didYouMean(chart, names))
	} else {
		r.unchecked(kindChart, ref, pos)
	}
	return ChartObject{}, false
}

func (r *resolver) resolveReports(objs []object) {
	for _, o := range objs {
		n := o.tree()
		var rep Report
		if err := decode(n, &rep); err != nil {
			r.sink.errorf(n.Pos, CodeInvalid, "report %q: %v", o.name, err)
			continue
		}
		what := fmt.Sprintf("report %q", rep.Name)
		errs := r.sink.errorCount()
		typo := r.misspelt(n, reportKeys)
		deps := map[string]string{}
		var filterSource *DashboardObject
		switch {
		case rep.Dashboard == "" && rep.Chart == "" && (typo["dashboard"] != nil || typo["chart"] != nil):
		case rep.Dashboard == "" && rep.Chart == "":
			r.sink.errorf(n.Pos, CodeMissingKey, "%s needs dashboard or chart (DASHBOARD/CHART)", what)
		case rep.Dashboard != "" && rep.Chart != "":
			r.sink.errorf(n.PosAt("chart"), CodeInvalid, "%s names both dashboard and chart; keep one", what)
		case rep.Dashboard != "":
			if d, ok := r.dashboards[rep.Dashboard]; ok {
				deps[d.ID] = d.Hash
				filterSource = d
			} else if !r.unchecked(KindDashboard, rep.Dashboard, n.PosAt("dashboard")) {
				r.sink.errorf(n.PosAt("dashboard"), CodeUnknownRef, "%s names unknown dashboard %q%s", what, rep.Dashboard, didYouMean(rep.Dashboard, r.dashboardNames()))
			}
		default:
			if c, ok := r.chartRef(n.PosAt("chart"), what, rep.Chart); ok {
				deps[c.ID] = c.Hash
				filterSource = r.dashboards[c.Dashboard]
			}
		}
		if filterSource != nil {
			var names []string
			for _, f := range filterSource.Spec.Filters {
				names = append(names, f.Name)
			}
			for _, name := range sortedKeys(rep.Filters) {
				if !contains(names, name) {
					r.sink.errorf(n.KeyPosAt("filters", name), CodeUnknownRef, "%s: dashboard %q has no filter %q%s", what, filterSource.Spec.Name, name, didYouMean(name, names))
					continue
				}
				f := filterSource.Spec.Filters[indexOfFilter(filterSource.Spec.Filters, name)]
				ds, ok := r.datasets[f.Dataset]
				if !ok {
					continue
				}
				if msg := filterstate.Fits(f.Type, ds.Spec.Dimensions[f.Dimension].Type, rep.Filters[name], f.Values); msg != "" {
					r.sink.errorf(n.PosAt("filters", name), CodeInvalid, "%s: filter %q: the value %s", what, name, msg)
				}
			}
		}
		if rep.Format == "" {
			rep.Format = "png"
		}
		r.checkSchedule(n, what, rep.Schedule, &rep.Timezone)
		r.checkNotify(n, what, rep.Notify)
		if r.sink.errorCount() != errs {
			continue
		}
		obj := ReportObject{Meta: Meta{ID: string(ReportID(rep.Name)), DependsOn: sortedKeys(deps), Source: n.PosAt("report")}, Spec: rep}
		obj.Hash = r.hash(KindReport, rep, deps)
		r.m.Reports = append(r.m.Reports, obj)
	}
}
