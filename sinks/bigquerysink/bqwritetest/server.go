package bqwritetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// ErrNotStarted reports a call that needs a running server.
var ErrNotStarted = errors.New("bqwritetest: server not started")

// Server is the fake Storage Write API. The zero value is not usable; call
// New. All methods are safe for concurrent use.
type Server struct {
	storagepb.UnimplementedBigQueryWriteServer

	mu      sync.Mutex
	tables  map[string]*table  // by table path: projects/p/datasets/d/tables/t
	streams map[string]*stream // by stream name
	seq     int                // names of created streams
	fail    []codes.Code       // errors for the next appends, in order
	drop    int                // next appends to write without an answer
	late    int                // next appends to write and answer only after lateBy
	lateBy  time.Duration
	appends int // append requests answered or dropped
	watch   func(table string, rows []map[string]any)
	mode    RowMode

	addr string
	gs   *grpc.Server
	done chan struct{} // closed when the running gs.Serve returns
}

// table is one BigQuery table: its schema and the rows every stream made visible.
type table struct {
	schema *storagepb.TableSchema
	rows   []map[string]any
}

// stream is one write stream and the rows appended to it.
type stream struct {
	name      string
	table     string
	typ       storagepb.WriteStream_Type
	schema    *storagepb.TableSchema // the table's schema when the stream was created
	rows      []map[string]any
	flushed   int64 // BUFFERED: rows [0, flushed) are visible
	finalized bool
	committed bool // PENDING: committed by BatchCommitWriteStreams
}

// New returns a server with no tables, not yet listening.
func New() *Server {
	return &Server{tables: map[string]*table{}, streams: map[string]*stream{}}
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves until
// Stop. It returns the address to dial.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("bqwritetest listen: %w", err)
	}
	gs := grpc.NewServer()
	storagepb.RegisterBigQueryWriteServer(gs, s)
	done := make(chan struct{})
	s.mu.Lock()
	s.addr, s.gs, s.done = ln.Addr().String(), gs, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		_ = gs.Serve(ln)
	}()
	return ln.Addr().String(), nil
}

// Stop closes every connection at once (appends in flight get Unavailable)
// and waits for the server to end. The tables and streams are kept.
func (s *Server) Stop() {
	s.mu.Lock()
	gs, done := s.gs, s.done
	s.gs = nil
	s.mu.Unlock()
	if gs == nil {
		return
	}
	gs.Stop()
	<-done
}

// Restart stops the server and starts it again on the same address, with
// the same tables and streams: BigQuery coming back after an outage.
func (s *Server) Restart() error {
	s.mu.Lock()
	addr := s.addr
	s.mu.Unlock()
	if addr == "" {
		return ErrNotStarted
	}
	s.Stop()
	_, err := s.Start(addr)
	return err
}

// AddTable creates the table projects/<project>/datasets/<dataset>/tables/<name>
// with schema, or replaces the schema of an existing one (a schema change:
// streams created before keep the old one, as in BigQuery).
func (s *Server) AddTable(project, dataset, name string, schema *storagepb.TableSchema) {
	path := TablePath(project, dataset, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tables[path]; ok {
		t.schema = schema
		return
	}
	s.tables[path] = &table{schema: schema}
}

// Watch has fn called with the rows of a table (its resource name, see
// TablePath) each time some become visible, in the order they do. fn runs
// with the server's lock held: it must return quickly, keep the maps as
// they are and call no method of the server.
func (s *Server) Watch(fn func(table string, rows []map[string]any)) {
	s.mu.Lock()
	s.watch = fn
	s.mu.Unlock()
}

// RowMode is what the server does with the rows of an append.
type RowMode int

// Row modes.
const (
	// KeepRows checks the rows as BigQuery does and keeps them (the
	// default): Rows returns them.
	KeepRows RowMode = iota
	// CheckRows checks them and keeps none (Rows gives nil for each, and
	// so does Watch for rows of PENDING and BUFFERED streams), so that the
	// memory of a long benchmark does not grow with them.
	CheckRows
	// CountRows only counts them: no decoding, no check, no Watch. It is
	// for benchmarks of a client alone, where the server's own work would
	// weigh on the process as a remote BigQuery's does not.
	CountRows
)

// SetRowMode sets what the server does with the rows of the appends that
// follow. Offsets, ALREADY_EXISTS and OUT_OF_RANGE answer the same in
// every mode.
func (s *Server) SetRowMode(m RowMode) {
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
}

// kept is what the server keeps of checked rows. The lock is held.
func (s *Server) kept(rows []map[string]any) []map[string]any {
	if s.mode == KeepRows {
		return rows
	}
	return make([]map[string]any, len(rows))
}

// show makes rows of the table at path visible. The lock is held.
func (s *Server) show(path string, t *table, rows []map[string]any) {
	t.rows = append(t.rows, s.kept(rows)...)
	if s.watch != nil && s.mode != CountRows {
		s.watch(path, rows)
	}
}

// TablePath returns the resource name of a table.
func TablePath(project, dataset, name string) string {
	return "projects/" + project + "/datasets/" + dataset + "/tables/" + name
}

// Rows returns the visible rows of a table, in the order they became
// visible. The maps are the server's; do not modify them.
func (s *Server) Rows(project, dataset, name string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[TablePath(project, dataset, name)]
	if !ok {
		return nil
	}
	return append([]map[string]any(nil), t.rows...)
}

// Streams returns the names of the streams created on a table, oldest first.
func (s *Server) Streams(project, dataset, name string) []string {
	prefix := TablePath(project, dataset, name) + "/streams/"
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i := 1; i <= s.seq; i++ {
		if n := fmt.Sprintf("%ss%d", prefix, i); s.streams[n] != nil {
			out = append(out, n)
		}
	}
	return out
}

// FailAppends makes the next len(codes) append requests fail with those
// gRPC codes, in order, ending the connection as a broken backend does;
// nothing is written.
func (s *Server) FailAppends(c ...codes.Code) {
	s.mu.Lock()
	s.fail = append(s.fail, c...)
	s.mu.Unlock()
}

// DropAcks makes the next n append requests be written but not answered:
// the connection breaks with Unavailable instead, as when an acknowledgement
// is lost on the way back.
func (s *Server) DropAcks(n int) {
	s.mu.Lock()
	s.drop += n
	s.mu.Unlock()
}

// DelayAcks makes the next n append requests be written and answered only
// after d, as a backend that stalls after the write does: a client whose
// deadline is shorter gives up without knowing the rows landed. Requests
// on the same connection wait behind the late answer.
func (s *Server) DelayAcks(n int, d time.Duration) {
	s.mu.Lock()
	s.late, s.lateBy = s.late+n, d
	s.mu.Unlock()
}

// Appends returns how many append requests the server has handled.
func (s *Server) Appends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appends
}

// defaultStream reports whether name is a table's _default stream, and its table.
func defaultStream(name string) (string, bool) {
	t, ok := strings.CutSuffix(name, "/streams/_default")
	return t, ok
}

// lookup returns the stream called name, the _default stream of a table
// included; s.mu must be held.
func (s *Server) lookup(name string) (*stream, *table, error) {
	if path, ok := defaultStream(name); ok {
		t, ok := s.tables[path]
		if !ok {
			return nil, nil, storageErr(codes.NotFound, storagepb.StorageError_TABLE_NOT_FOUND, path, "table not found")
		}
		return &stream{name: name, table: path, typ: storagepb.WriteStream_COMMITTED, schema: t.schema}, t, nil
	}
	st, ok := s.streams[name]
	if !ok {
		return nil, nil, storageErr(codes.NotFound, storagepb.StorageError_STREAM_NOT_FOUND, name, "stream not found")
	}
	return st, s.tables[st.table], nil
}

// Serve is for tests that need the server only for the life of a context:
// it starts the server on a free loopback port and stops it when ctx ends.
func (s *Server) Serve(ctx context.Context) (string, error) {
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	context.AfterFunc(ctx, s.Stop)
	return addr, nil
}

// Finalized returns nil when the named stream exists and is finalized.
func (s *Server) Finalized(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[name]
	switch {
	case !ok:
		return fmt.Errorf("bqwritetest: no stream %s", name)
	case !st.finalized:
		return fmt.Errorf("bqwritetest: stream %s is not finalized", name)
	}
	return nil
}
