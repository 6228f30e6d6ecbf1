package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinionkit/pinion/metrics"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		expr            string
		metrics, labels []string
	}{
		{"pinion_streams_open", []string{"pinion_streams_open"}, nil},
		{"rate(pinion_events_sent_total[1m])", []string{"pinion_events_sent_total"}, nil},
		{`histogram_quantile(0.99, sum by (le, topic, operation) (rate(x_bucket{topic=~"a|b"}[5m])))`,
			[]string{"x_bucket"}, []string{"operation", "topic"}},
		{"rate(a_sum[1m]) / rate(a_count[1m]) * 1e3", []string{"a_count", "a_sum"}, nil},
		{"sum without(instance) (rate(b[5m])) > bool 0", []string{"b"}, []string{"instance"}},
	} {
		m, l := Names(tc.expr)
		if !slices.Equal(m, tc.metrics) || !slices.Equal(l, tc.labels) {
			t.Errorf("Names(%q) = %v, %v; want %v, %v", tc.expr, m, l, tc.metrics, tc.labels)
		}
	}
}

func TestQueriesReplaceVariables(t *testing.T) {
	raw := []byte(`{"templating":{"list":[{"name":"datasource","type":"datasource"},{"name":"topic","type":"query","current":{"value":"$__all"}}]},
	"panels":[{"id":1,"title":"row","panels":[{"id":2,"title":"p","targets":[{"refId":"A","expr":"rate(x{topic=~\"$topic\"}[$__rate_interval])"}]}]}]}`)
	qs, err := Queries(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0].PromQL != `rate(x{topic=~".+"}[1m])` || qs[0].PanelID != 2 {
		t.Fatalf("got %+v", qs)
	}
	if _, err := Queries([]byte(`{"panels":[{"id":1,"targets":[{"expr":"x[$nope]"}]}]}`), nil); err == nil {
		t.Fatal("an unknown variable was accepted")
	}
}

// TestDashboardMatchesMetrics reads docs/grafana-dashboard.json and checks,
// without Prometheus, that every metric it queries is one that
// metrics.New registers (histogram series by their base name) and that
// every label it groups by is one of that metric's labels. A vector with no
// observation is absent from /metrics, so a misspelt name in a panel would
// otherwise look like a quiet event.
func TestDashboardMatchesMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := Queries(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	m.WatchStreams(func() int { return 0 })
	known := describe(t, m.Registry())

	panels := map[int]bool{}
	for _, q := range qs {
		panels[q.PanelID] = true
		names, labels := Names(q.PromQL)
		if len(names) == 0 {
			t.Errorf("panel %d %q: no metric in %q", q.PanelID, q.Panel, q.PromQL)
		}
		have := map[string]bool{}
		for _, n := range names {
			ls, ok := known[n]
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, cut := strings.CutSuffix(n, suffix); !ok && cut {
					ls, ok = known[base]
				}
			}
			if !ok {
				t.Errorf("panel %d %q: metric %s is not registered by metrics.New", q.PanelID, q.Panel, n)
			}
			for _, l := range ls {
				have[l] = true
			}
		}
		for _, l := range labels {
			if !have[l] {
				t.Errorf("panel %d %q: groups by %q, which %v do not have", q.PanelID, q.Panel, l, names)
			}
		}
	}
	if len(panels) < 10 {
		t.Fatalf("only %d panels with queries", len(panels))
	}
}

var descRE = regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)

// describe returns each registered metric's name and variable labels.
// client_golang exposes them only through Desc.String, so it is parsed;
// the test fails if that format changes and nothing is found.
func describe(t *testing.T, reg *prometheus.Registry) map[string][]string {
	t.Helper()
	ch := make(chan *prometheus.Desc)
	go func() { reg.Describe(ch); close(ch) }()
	out := map[string][]string{}
	for d := range ch {
		m := descRE.FindStringSubmatch(d.String())
		if m == nil {
			continue
		}
		var labels []string
		for _, l := range strings.Split(m[2], ",") {
			if l = strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"); l != "" {
				labels = append(labels, l)
			}
		}
		out[m[1]] = labels
	}
	if _, ok := out["pinion_write_duration_seconds"]; !ok || len(out) < 12 {
		t.Fatalf("could not read the registry's descriptions (%d found): has Desc.String changed?", len(out))
	}
	return out
}

func TestGraphURL(t *testing.T) {
	qs := []Query{
		{PanelID: 1, RefID: "A", PromQL: "a"},
		{PanelID: 8, RefID: "A", PromQL: "rate(b[1m])"},
		{PanelID: 8, RefID: "B", PromQL: "c"},
	}
	u, err := GraphURL("http://p", qs, []string{"8.B", "1"}, "30m")
	if err != nil {
		t.Fatal(err)
	}
	want := "http://p/graph?g0.expr=c&g0.range_input=30m&g0.show_exemplars=0&g0.stacked=0&g0.tab=0" +
		"&g1.expr=a&g1.range_input=30m&g1.show_exemplars=0&g1.stacked=0&g1.tab=0"
	if u != want {
		t.Errorf("got  %s\nwant %s", u, want)
	}
	if _, err := GraphURL("http://p", qs, []string{"8.C"}, "30m"); err == nil {
		t.Error("a missing target was accepted")
	}
}
