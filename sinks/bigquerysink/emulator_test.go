package bigquerysink

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	connector "github.com/agentphone-connector/connector"
)

// emulatorVar names the bigquery-emulator binary the SQL tests run on;
// scripts/bigquery-emulator builds it and prints its path.
const emulatorVar = "BIGQUERY_EMULATOR"

// startEmulator runs the BigQuery emulator for the test and returns the
// configuration of a sink pointing its REST endpoint at it.
func startEmulator(t *testing.T) Config {
	t.Helper()
	bin := os.Getenv(emulatorVar)
	if bin == "" || bin == "skip" {
		t.Skipf("%s is not set: the SQL of the tables and views is tested on the BigQuery emulator; "+
			"run `export %s=$(scripts/bigquery-emulator)` (scripts/test does) to include it", emulatorVar, emulatorVar)
	}
	port, grpcPort := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--project="+testProject, "--host=127.0.0.1",
		fmt.Sprintf("--port=%d", port), fmt.Sprintf("--grpc-port=%d", grpcPort), "--log-level=error")
	var logs bytes.Buffer // the emulator logs every "not found", which EnsureSchema asks about on purpose
	cmd.Stderr = &logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator log:\n%s", logs.String())
		}
	})
	// The emulator prints this line just before it listens.
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), "REST server listening") {
	}
	go func() { // keep draining, so the emulator never blocks on a full pipe
		for sc.Scan() {
		}
	}()
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, endpoint+"/projects/"+testProject+"/datasets")
	return Config{Project: testProject, Dataset: testDataset, Location: "US", Endpoint: endpoint,
		Stream: StreamCommitted, ManageSchema: true, BatchSize: 500, BatchTimeout: time.Second}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitHTTP waits until url answers: the emulator binds its port right after
// announcing it.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range 200 {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		<-tick.C
	}
	t.Fatalf("the emulator does not answer at %s", url)
}

// saver is one row of a table as the REST API's insertAll takes it.
type saver struct {
	t *table
	r row
}

func (s saver) Save() (map[string]bigquery.Value, string, error) {
	out := map[string]bigquery.Value{}
	for i, cols := range s.t.parts {
		for k, v := range restValues(cols, s.r[i]) {
			out[k] = v
		}
	}
	return out, "", nil
}

// restValues maps a row's values to insertAll values by the same columns
// the Storage Write encoder uses; NULL columns are left out.
func restValues(cols []column, v reflect.Value) map[string]bigquery.Value {
	out := map[string]bigquery.Value{}
	for _, c := range cols {
		f := v.FieldByIndex(c.index)
		ptr := f.Kind() == reflect.Pointer
		if ptr {
			if f.IsNil() {
				continue
			}
			f = f.Elem() // omitempty on a pointer leaves out nil only, as in JSON
		}
		if c.repeated {
			vals := []bigquery.Value{}
			for j := range f.Len() {
				vals = append(vals, restValue(c, f.Index(j)))
			}
			out[c.name] = vals
			continue
		}
		if c.omitEmpty && !ptr && (f.IsZero() || f.Kind() == reflect.Slice && f.Len() == 0) {
			continue
		}
		out[c.name] = restValue(c, f)
	}
	return out
}

func restValue(c column, v reflect.Value) bigquery.Value {
	switch c.typ {
	case bigquery.RecordFieldType:
		return restValues(c.sub, v)
	case bigquery.JSONFieldType:
		return string(v.Bytes())
	case bigquery.TimestampFieldType:
		return v.Interface().(time.Time)
	case bigquery.IntegerFieldType:
		if v.CanInt() {
			return v.Int()
		}
		return int64(v.Uint())
	}
	return v.Interface()
}

// load inserts the rows of events into the emulator's tables; the events
// of again are inserted a second time, as retries and replays do.
func load(t *testing.T, ctx context.Context, bq *bigquery.Client, events, again []*connector.Event) {
	t.Helper()
	tables, err := buildTables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		var rows []saver
		for _, batch := range [][]*connector.Event{events, again} {
			for _, e := range batch {
				rs, err := tb.rows(e)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rs {
					rows = append(rows, saver{tb, r})
				}
			}
		}
		if len(rows) == 0 {
			continue
		}
		if err := bq.Dataset(testDataset).Table(tb.Name).Inserter().Put(ctx, rows); err != nil {
			t.Fatalf("insert into %s: %v", tb.Name, err)
		}
	}
}

// queryRows runs sql with the query parameters and returns the rows as maps.
func queryRows(t *testing.T, ctx context.Context, bq *bigquery.Client, sql string, params ...bigquery.QueryParameter) []map[string]bigquery.Value {
	t.Helper()
	q := bq.Query(sql)
	q.Parameters = params
	it, err := q.Read(ctx)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	var out []map[string]bigquery.Value
	for {
		row := map[string]bigquery.Value{}
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			return out
		}
		if err != nil {
			t.Fatalf("query %q: %v", sql, err)
		}
		out = append(out, row)
	}
}
