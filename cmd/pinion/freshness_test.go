package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, c *http.Client, url, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// freshnessMetric reads one sample line of pinion_client_freshness_seconds
// from the admin listener; absent is 0.
func freshnessMetric(t *testing.T, admin, suffix string) float64 {
	t.Helper()
	code, body := get(t, client(), admin+"/metrics")
	if code != 200 {
		t.Fatalf("admin /metrics: %d", code)
	}
	re := regexp.MustCompile(`(?m)^pinion_client_freshness_seconds` + regexp.QuoteMeta(suffix) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Beacons posted through the public listener become the freshness
// histogram on the admin listener: measured from the revision's commit
// time to the report's arrival minus appliedAgoMs, clamped at 0; a
// refused report records nothing.
func TestFreshnessReports(t *testing.T) {
	env := func(k string) string {
		if k == "PINION_FRESHNESS_RATE" {
			return "0.01" // one report per principal, then 429 for 100 s
		}
		return ""
	}
	public, admin := startAdmin(t, []string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-data", t.TempDir(),
		"-client-freshness", "-freshness-max-samples", "3"}, env)
	url := public + "/api/freshness"
	const count = `_count{topic="app-settings"}`

	before := time.Now()
	wrote := request(t, client(), "PUT", public+"/api/topics/app-settings", settings)
	// Applied "now" (0 ms ago), and applied long after the time the
	// server can have received it (clamped to 0).
	report := fmt.Sprintf(`{"samples":[{"topic":"app-settings","revision":%q,"appliedAgoMs":0},{"topic":"app-settings","revision":%q,"appliedAgoMs":3600000}]}`,
		wrote.Revision, wrote.Revision)
	if code, body := post(t, client(), url, "application/json", report); code != http.StatusNoContent {
		t.Fatalf("report: %d %s", code, body)
	}
	elapsed := time.Since(before).Seconds()
	if n := freshnessMetric(t, admin, count); n != 2 {
		t.Fatalf("count = %v, want 2", n)
	}
	sum := freshnessMetric(t, admin, `_sum{topic="app-settings"}`)
	if sum < 0 || sum > elapsed {
		t.Fatalf("sum = %v s, want between 0 and the %v s from before the write to after the report", sum, elapsed)
	}
	if zero := freshnessMetric(t, admin, `_bucket{topic="app-settings",le="0.005"}`); zero < 1 {
		t.Fatalf("the clamped sample is not in the lowest bucket (%v)", zero)
	}
	t.Logf("freshness of a report sent right after the write: %.2f ms", sum*1000)

	// Every refusal leaves the histogram as it was; each uses a principal
	// of its own, since the rate limit allows one report per principal.
	sample := func(topic, rev, age string) string {
		return fmt.Sprintf(`{"topic":%q,"revision":%q,"appliedAgoMs":%s}`, topic, rev, age)
	}
	good := sample("app-settings", wrote.Revision, "5")
	for _, c := range []struct {
		name, contentType, body string
		want                    int
		problem                 string
	}{
		{"unknown topic", "application/json", `{"samples":[` + good + `,` + sample("no-such-topic", wrote.Revision, "1") + `]}`, 422, `"pointer":"/samples/1/topic"`},
		{"never-written revision", "application/json", `{"samples":[` + sample("app-settings", "1", "1") + `]}`, 422, `"rule":"gt"`},
		{"not a revision", "application/json", `{"samples":[` + sample("app-settings", "01", "1") + `]}`, 422, `"rule":"revision"`},
		{"negative age", "application/json", `{"samples":[` + sample("app-settings", wrote.Revision, "-1") + `]}`, 422, `"rule":"min"`},
		{"age over an hour", "application/json", `{"samples":[` + sample("app-settings", wrote.Revision, "3600001") + `]}`, 422, `"rule":"max"`},
		{"missing age", "application/json", `{"samples":[{"topic":"app-settings","revision":"` + wrote.Revision + `"}]}`, 422, `"rule":"required"`},
		{"no samples", "application/json", `{"samples":[]}`, 422, `"pointer":"/samples"`},
		{"too many samples", "application/json", `{"samples":[` + strings.Repeat(good+",", 3) + good + `]}`, 422, `"rule":"max"`},
		{"unknown member", "application/json", `{"samples":[` + good + `],"extra":1}`, 422, `"rule":"unknown"`},
		{"wrong type", "application/json", `{"samples":[{"topic":"app-settings","revision":"` + wrote.Revision + `","appliedAgoMs":"5"}]}`, 422, `"pointer":"/samples/0/appliedAgoMs"`},
		{"malformed JSON", "application/json", `{"samples":[`, 400, ""},
		{"duplicate member", "application/json", `{"samples":[],"samples":[` + good + `]}`, 400, ""},
		{"wrong media type", "text/plain", `{"samples":[` + good + `]}`, 415, ""},
		{"over the body limit", "application/json", `{"samples":[` + good + `],"pad":"` + strings.Repeat("x", 64+3*256) + `"}`, 413, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := post(t, client(), url, c.contentType, c.body)
			if code != c.want || !strings.Contains(body, `"status":`+strconv.Itoa(c.want)) || !strings.Contains(body, c.problem) {
				t.Fatalf("%d %s; want %d with %s", code, body, c.want, c.problem)
			}
		})
	}
	if n := freshnessMetric(t, admin, count); n != 2 {
		t.Fatalf("count = %v after refused reports, want 2", n)
	}
	if _, body := get(t, client(), admin+"/metrics"); strings.Contains(body, "no-such-topic") {
		t.Error("a client-chosen topic name became a label")
	}

	// The rate limit: a second report of the same principal is refused.
	c := client()
	if code, body := post(t, c, url, "application/json", `{"samples":[`+good+`]}`); code != http.StatusNoContent {
		t.Fatalf("first report: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"samples":[`+good+`]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second report: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := freshnessMetric(t, admin, count); n != 3 {
		t.Fatalf("count = %v, want 3", n)
	}
}

// Off by default: the route answers a 404 problem and nothing is
// exported; on, it needs the admin listener.
func TestFreshnessOffByDefault(t *testing.T) {
	public, admin := startAdmin(t, []string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-data", t.TempDir()}, func(string) string { return "" })
	wrote := request(t, client(), "PUT", public+"/api/topics/app-settings", settings)
	code, body := post(t, client(), public+"/api/freshness", "application/json",
		`{"samples":[{"topic":"app-settings","revision":"`+wrote.Revision+`","appliedAgoMs":1}]}`)
	if code != http.StatusNotFound || !strings.Contains(body, "-client-freshness") {
		t.Fatalf("report to a server without -client-freshness: %d %s", code, body)
	}
	if _, metrics := get(t, client(), admin+"/metrics"); strings.Contains(metrics, "pinion_client_freshness_seconds_count") {
		t.Fatal("the histogram has samples on a server that takes no reports")
	}

	if _, err := parse([]string{"-client-freshness"}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "-admin-addr") {
		t.Fatalf("-client-freshness without -admin-addr: %v", err)
	}
	o, err := parse([]string{"-admin-addr", "127.0.0.1:0"}, func(k string) string {
		if k == "PINION_CLIENT_FRESHNESS" {
			return "true"
		}
		return ""
	}, io.Discard)
	if err != nil || !o.freshness {
		t.Fatalf("PINION_CLIENT_FRESHNESS=true: %v, %v", o.freshness, err)
	}
}
