package deploy

import (
	"bufio"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// registeredMetrics returns every metric name the connector can expose: the
// names of the Prometheus collectors declared in its packages (vectors show
// in /metrics only once a label value is used) and every family a running
// connector serves (the Go and process collectors included). Histograms
// add their _bucket, _sum and _count series.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, n := range declaredMetrics(t) {
		for _, s := range []string{"", "_bucket", "_sum", "_count"} {
			names[n+s] = true
		}
	}
	for _, n := range servedMetrics(t) {
		names[n] = true
	}
	return names
}

// declaredMetrics finds, in the module's non-test Go files, the Name of
// every prometheus.*Opts literal and the name of every prometheus.NewDesc.
func declaredMetrics(t *testing.T) []string {
	t.Helper()
	var names []string
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && isPkg(sel.X, "prometheus") && strings.HasSuffix(sel.Sel.Name, "Opts") {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && isIdent(kv.Key, "Name") {
							names = append(names, stringLit(kv.Value))
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && isPkg(sel.X, "prometheus") && sel.Sel.Name == "NewDesc" && len(n.Args) > 0 {
					names = append(names, stringLit(n.Args[0]))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 15 || slices.Contains(names, "") {
		t.Fatalf("declared metrics %q: expected every connector_ metric, each named by a string literal", names)
	}
	return names
}

func isPkg(e ast.Expr, name string) bool { return isIdent(e, name) }

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func stringLit(e ast.Expr) string {
	if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
		s, _ := strconv.Unquote(lit.Value)
		return s
	}
	return ""
}

// servedMetrics runs the connector and returns the metric names its
// /metrics serves.
func servedMetrics(t *testing.T) []string {
	t.Helper()
	p := startConnector(t, emptyDir(t),
		"CONNECTOR_DATA_DIR="+dataDir(t),
		"CONNECTOR_HTTP_ADDR=127.0.0.1:0",
		"CONNECTOR_ADMIN_ADDR=127.0.0.1:0",
		"CONNECTOR_NATS_LISTEN=none",
		"AGENTPHONE_WEBHOOK_SECRET="+testSecret,
	)
	resp, err := http.Get(p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var names []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			names = append(names, strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	p.stop(t)
	return names
}

var (
	quoted     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	metricName = regexp.MustCompile(`\b(?:connector|go|process)_[a-zA-Z0-9_]+\b`)
)

// queriedMetrics returns the connector, Go and process metric names a PromQL
// expression asks for (label values in quotes are left out).
func queriedMetrics(expr string) []string {
	return metricName.FindAllString(quoted.ReplaceAllString(expr, `""`), -1)
}

func TestQueriedMetrics(t *testing.T) {
	got := queriedMetrics(`sum by (reason) (rate(connector_webhook_rejections_total{reason="connector_x"}[5m])) / go_goroutines`)
	if !slices.Equal(got, []string{"connector_webhook_rejections_total", "go_goroutines"}) {
		t.Errorf("queriedMetrics = %v", got)
	}
}

// dashboard is the part of the Grafana dashboard JSON the tests read.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// The dashboard parses and asks only for metrics the connector registers,
// and it shows what the issue asks of it: ingest and rejections,
// duplicates, journal latency, per-sink lag and failures.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile("grafana/connector.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("grafana/connector.json: %v", err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok {
			exprs = append(exprs, q)
		}
	}
	checkQueries(t, exprs, registeredMetrics(t), []string{
		"connector_webhook_requests_total", "connector_webhook_rejections_total", "connector_events_total",
		"connector_journal_append_seconds_bucket", "connector_sink_pending_events", "connector_sink_oldest_pending_seconds",
		"connector_sink_write_failures_total", "connector_sink_events_total",
	})
}

// checkQueries fails the test for a metric the connector does not register
// and for a wanted metric no query asks for.
func checkQueries(t *testing.T, exprs []string, registered map[string]bool, want []string) {
	t.Helper()
	asked := map[string]bool{}
	for _, e := range exprs {
		for _, m := range queriedMetrics(e) {
			asked[m] = true
			if !registered[m] {
				t.Errorf("%s is not a metric the connector registers (in %s)", m, e)
			}
		}
	}
	for _, m := range want {
		if !asked[m] {
			t.Errorf("nothing asks for %s", m)
		}
	}
}
