// Command dashboard checks docs/grafana-dashboard.json against a Prometheus
// that scrapes a running Pinion: it runs every panel's PromQL through
// Prometheus's HTTP API and reports, per query, whether it parses, whether
// it returns series, and whether the metric and `by (...)` label names it
// uses exist in what Prometheus has scraped. Grafana is not needed: these
// are the dashboard's own queries, with Grafana's template variables
// replaced by fixed values.
//
//	prometheus --config.file=bench/dashboard/prometheus.yml --storage.tsdb.path=/tmp/prom --web.listen-address=127.0.0.1:9099 &
//	go run ./bench/dashboard -prometheus http://127.0.0.1:9099
//
// A query that parses but returns nothing is not an error by itself: a
// counter vector with no observation yet (no eviction, no store error) is
// not exposed at all. Such a query is reported as "no data", with which of
// its metrics Prometheus has never seen, so a misspelt name shows there too
// (compare with metrics/metrics.go). The exit status is 1 when a query
// does not parse or names a label its metrics do not have, 0 otherwise.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

// Query is one panel target of the dashboard.
type Query struct {
	PanelID int
	Panel   string
	RefID   string
	Expr    string // as written in the dashboard
	PromQL  string // with template variables replaced
}

// Result is what Prometheus said about one query.
type Result struct {
	Query
	Parses        bool
	Error         string   // Prometheus's error when it does not parse
	Series        int      // series in the instant vector
	NaN           int      // of them, series whose value is NaN (a quantile of no observations)
	MissingNames  []string // metric names Prometheus has never scraped
	UnknownLabels []string // by(...) labels none of the query's metrics has
}

// dashboard is the part of Grafana's dashboard model the checker reads.
type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Current struct {
				Value any `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int     `json:"id"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"` // a collapsed row holds its panels
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// builtins are Grafana's interval variables, set for a 5 s scrape
// interval: $__rate_interval is at least four scrape intervals.
var builtins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "30m",
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)`)

// Queries returns every target of every panel (rows included), with
// template variables replaced: Grafana's builtins by fixed intervals, a
// dashboard variable by vars[name], else by its current value, else by the
// regex ".+" (all values; every variable here is used in =~ matchers).
func Queries(raw []byte, vars map[string]string) ([]Query, error) {
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("read dashboard: %w", err)
	}
	values := map[string]string{}
	for k, v := range builtins {
		values[k] = v
	}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			continue
		}
		switch cur := v.Current.Value.(type) {
		case string:
			if cur != "" && cur != "$__all" {
				values[v.Name] = cur
			}
		}
		if _, ok := values[v.Name]; !ok {
			values[v.Name] = ".+"
		}
	}
	for k, v := range vars {
		values[k] = v
	}
	var out []Query
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					continue
				}
				var unknown error
				q := varRef.ReplaceAllStringFunc(t.Expr, func(m string) string {
					sub := varRef.FindStringSubmatch(m)
					name := sub[1] + sub[2] + sub[3]
					v, ok := values[name]
					if !ok {
						unknown = fmt.Errorf("panel %d %q: unknown variable %s", p.ID, p.Title, m)
					}
					return v
				})
				if unknown != nil {
					return unknown
				}
				out = append(out, Query{PanelID: p.ID, Panel: p.Title, RefID: t.RefID, Expr: t.Expr, PromQL: q})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("the dashboard has no PromQL targets")
	}
	return out, nil
}

var (
	// Text that holds no metric name: label matchers, ranges, strings.
	braces   = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|"[^"]*"`)
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	ident    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	keywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true, "and": true, "or": true, "unless": true,
		"bool": true, "offset": true, "inf": true, "nan": true}
)

// Names returns the metric names an expression selects and the labels its
// aggregations group by (le excluded), each sorted and unique. It is a
// lexical reading, enough for the dashboard's expressions: an identifier
// is a function or aggregation when "(" follows it.
func Names(expr string) (metrics, labels []string) {
	for _, m := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" && l != "le" {
				labels = append(labels, l)
			}
		}
	}
	s := grouping.ReplaceAllString(braces.ReplaceAllString(expr, " "), " ")
	for _, loc := range ident.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if keywords[strings.ToLower(name)] || strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\n"), "(") {
			continue
		}
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // the exponent or unit of a number, e.g. 1e3
		}
		metrics = append(metrics, name)
	}
	sort.Strings(metrics)
	sort.Strings(labels)
	return slices.Compact(metrics), slices.Compact(labels)
}

// prom is a client of Prometheus's HTTP API.
type prom struct {
	base string
	c    *http.Client
}

type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// get calls path with params; an answer with status "error" is returned
// as the response, not as an error, since a bad query is a result.
func (p prom) get(ctx context.Context, path string, params url.Values) (apiResponse, error) {
	var r apiResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+params.Encode(), nil)
	if err != nil {
		return r, err
	}
	res, err := p.c.Do(req)
	if err != nil {
		return r, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("%s: %s: %.200s", path, res.Status, body)
	}
	return r, nil
}

func (p prom) strings(ctx context.Context, path string, params url.Values) ([]string, error) {
	r, err := p.get(ctx, path, params)
	if err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", path, r.Error)
	}
	var out []string
	return out, json.Unmarshal(r.Data, &out)
}

// Check runs every query against Prometheus.
func Check(ctx context.Context, p prom, qs []Query) ([]Result, error) {
	scraped, err := p.strings(ctx, "/api/v1/label/__name__/values", nil)
	if err != nil {
		return nil, fmt.Errorf("list metric names: %w", err)
	}
	if len(scraped) == 0 {
		return nil, errors.New("Prometheus has no metrics yet: is its target up?")
	}
	have := map[string]bool{}
	for _, n := range scraped {
		have[n] = true
	}
	var out []Result
	for _, q := range qs {
		r := Result{Query: q}
		res, err := p.get(ctx, "/api/v1/query", url.Values{"query": {q.PromQL}})
		if err != nil {
			return nil, fmt.Errorf("panel %d: %w", q.PanelID, err)
		}
		r.Parses = res.Status == "success"
		if !r.Parses {
			r.Error = res.ErrorType + ": " + res.Error
		} else {
			var data struct {
				Result []struct {
					Value []any `json:"value"` // [time, "value"]
				} `json:"result"`
			}
			if err := json.Unmarshal(res.Data, &data); err != nil {
				return nil, fmt.Errorf("panel %d: %w", q.PanelID, err)
			}
			r.Series = len(data.Result)
			for _, s := range data.Result {
				if len(s.Value) == 2 && s.Value[1] == "NaN" {
					r.NaN++
				}
			}
		}
		metrics, labels := Names(q.PromQL)
		labelsOf := map[string]bool{}
		for _, m := range metrics {
			if !have[m] {
				r.MissingNames = append(r.MissingNames, m)
				continue
			}
			ls, err := p.strings(ctx, "/api/v1/labels", url.Values{"match[]": {m}})
			if err != nil {
				return nil, fmt.Errorf("labels of %s: %w", m, err)
			}
			for _, l := range ls {
				labelsOf[l] = true
			}
		}
		if len(r.MissingNames) == 0 {
			for _, l := range labels {
				if !labelsOf[l] {
					r.UnknownLabels = append(r.UnknownLabels, l)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	file := fs.String("dashboard", "docs/grafana-dashboard.json", "Grafana dashboard JSON")
	base := fs.String("prometheus", "http://127.0.0.1:9099", "Prometheus base URL")
	var vars varFlag
	fs.Var(&vars, "var", "name=value for a dashboard variable (repeatable)")
	graph := fs.String("graph-url", "", "print a Prometheus /graph URL that draws these panels' queries (comma-separated panel ids; refId after a dot picks one target, e.g. 1,8.A) instead of checking")
	rangeInput := fs.String("range", "30m", "time range of the -graph-url graphs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	qs, err := Queries(raw, vars)
	if err != nil {
		return err
	}
	if *graph != "" {
		u, err := GraphURL(strings.TrimRight(*base, "/"), qs, strings.Split(*graph, ","), *rangeInput)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, u)
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rs, err := Check(ctx, prom{base: strings.TrimRight(*base, "/"), c: &http.Client{Timeout: 30 * time.Second}}, qs)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "panel\tref\tparses\tseries\tverdict\tquery")
	bad, empty := 0, 0
	for _, r := range rs {
		verdict := "data"
		switch {
		case !r.Parses:
			verdict, bad = "PARSE ERROR: "+r.Error, bad+1
		case len(r.UnknownLabels) > 0:
			verdict, bad = "UNKNOWN LABELS: "+strings.Join(r.UnknownLabels, ","), bad+1
		case r.Series == 0 && len(r.MissingNames) > 0:
			verdict, empty = "no data: never scraped: "+strings.Join(r.MissingNames, ","), empty+1
		case r.Series == 0:
			verdict, empty = "no data", empty+1
		case r.NaN == r.Series:
			verdict, empty = "no data: NaN (no observations in the window)", empty+1
		}
		parses := "yes"
		if !r.Parses {
			parses = "NO"
		}
		fmt.Fprintf(w, "%d %s\t%s\t%s\t%d\t%s\t%s\n", r.PanelID, r.Panel, r.RefID, parses, r.Series, verdict, r.PromQL)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d queries: %d with data, %d without data, %d broken\n", len(rs), len(rs)-empty-bad, empty, bad)
	if bad > 0 {
		return fmt.Errorf("%d broken queries", bad)
	}
	return nil
}

// GraphURL returns the address of Prometheus's graph page drawing the
// queries of the chosen panels ("5" for all of panel 5's targets, "8.A"
// for one), one graph each, in that order, over rangeInput.
func GraphURL(base string, qs []Query, panels []string, rangeInput string) (string, error) {
	v := url.Values{}
	n := 0
	for _, sel := range panels {
		id, ref, _ := strings.Cut(strings.TrimSpace(sel), ".")
		found := false
		for _, q := range qs {
			if strconv.Itoa(q.PanelID) != id || (ref != "" && q.RefID != ref) {
				continue
			}
			found = true
			g := fmt.Sprintf("g%d.", n)
			v.Set(g+"expr", q.PromQL)
			v.Set(g+"tab", "0")
			v.Set(g+"stacked", "0")
			v.Set(g+"show_exemplars", "0")
			v.Set(g+"range_input", rangeInput)
			n++
		}
		if !found {
			return "", fmt.Errorf("no query for panel %q", sel)
		}
	}
	return base + "/graph?" + v.Encode(), nil
}

// varFlag collects -var name=value.
type varFlag map[string]string

func (v *varFlag) String() string { return fmt.Sprint(map[string]string(*v)) }

func (v *varFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	if *v == nil {
		*v = varFlag{}
	}
	(*v)[name] = value
	return nil
}
