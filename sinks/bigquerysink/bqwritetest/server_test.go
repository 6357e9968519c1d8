package bqwritetest

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const tablePath = "projects/p/datasets/d/tables/t"

// schema: id STRING REQUIRED, n INT64.
var schema = &storagepb.TableSchema{Fields: []*storagepb.TableFieldSchema{
	{Name: "id", Type: storagepb.TableFieldSchema_STRING, Mode: storagepb.TableFieldSchema_REQUIRED},
	{Name: "n", Type: storagepb.TableFieldSchema_INT64, Mode: storagepb.TableFieldSchema_NULLABLE},
}}

func descriptor(extra bool) *descriptorpb.DescriptorProto {
	f := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label.Enum()}
	}
	d := &descriptorpb.DescriptorProto{Name: proto.String("row"), Field: []*descriptorpb.FieldDescriptorProto{
		f("id", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_LABEL_REQUIRED),
		f("n", 2, descriptorpb.FieldDescriptorProto_TYPE_INT64, descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL),
	}}
	if extra {
		d.Field = append(d.Field, f("other", 3, descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL))
	}
	return d
}

func encode(id string, n int64) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendString(b, id)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(n))
}

// setup serves a server with table t and returns a client to it.
func setup(t *testing.T) (*Server, storagepb.BigQueryWriteClient) {
	t.Helper()
	srv := New()
	srv.AddTable("p", "d", "t", schema)
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv, dial(t, addr)
}

func dial(t *testing.T, addr string) storagepb.BigQueryWriteClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return storagepb.NewBigQueryWriteClient(conn)
}

// appendRows sends one request on a new connection and returns the answer.
func appendRows(t *testing.T, c storagepb.BigQueryWriteClient, stream string, off *int64, extra bool, rows ...[]byte) *storagepb.AppendRowsResponse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arc, err := c.AppendRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := &storagepb.AppendRowsRequest{WriteStream: stream, Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: &storagepb.AppendRowsRequest_ProtoData{
		WriterSchema: &storagepb.ProtoSchema{ProtoDescriptor: descriptor(extra)}, Rows: &storagepb.ProtoRows{SerializedRows: rows},
	}}}
	if off != nil {
		req.Offset = wrapperspb.Int64(*off)
	}
	if err := arc.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := arc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func code(r *storagepb.AppendRowsResponse) codes.Code { return status.FromProto(r.GetError()).Code() }

func at(n int64) *int64 { return &n }

func TestCommittedStreamOffsets(t *testing.T) {
	srv, c := setup(t)
	ws, err := c.CreateWriteStream(context.Background(), &storagepb.CreateWriteStreamRequest{Parent: tablePath, WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED}})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		off  int64
		want codes.Code
	}{{0, codes.OK}, {0, codes.AlreadyExists}, {5, codes.OutOfRange}, {2, codes.OK}, {3, codes.AlreadyExists}} {
		r := appendRows(t, c, ws.GetName(), at(tc.off), false, encode("a", 1), encode("b", 2))
		if code(r) != tc.want {
			t.Errorf("append %d at %d: %v, want %v", i, tc.off, code(r), tc.want)
		}
	}
	if n := len(srv.Rows("p", "d", "t")); n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
	fin, err := c.FinalizeWriteStream(context.Background(), &storagepb.FinalizeWriteStreamRequest{Name: ws.GetName()})
	if err != nil || fin.GetRowCount() != 4 {
		t.Errorf("finalize = %v, %v; want 4 rows", fin, err)
	}
	if r := appendRows(t, c, ws.GetName(), at(4), false, encode("c", 3)); code(r) != codes.InvalidArgument {
		t.Errorf("append to a finalized stream: %v", code(r))
	}
}

func TestPendingAndBufferedStreams(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	pend, _ := c.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath, WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_PENDING}})
	buf, _ := c.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath, WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_BUFFERED}})
	appendRows(t, c, pend.GetName(), at(0), false, encode("p", 1))
	appendRows(t, c, buf.GetName(), at(0), false, encode("b1", 1), encode("b2", 2))
	if n := len(srv.Rows("p", "d", "t")); n != 0 {
		t.Fatalf("%d rows visible before commit or flush", n)
	}
	if _, err := c.FlushRows(ctx, &storagepb.FlushRowsRequest{WriteStream: buf.GetName(), Offset: wrapperspb.Int64(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: tablePath, WriteStreams: []string{pend.GetName()}}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("commit of an open stream: %v, want FailedPrecondition", err)
	}
	c.FinalizeWriteStream(ctx, &storagepb.FinalizeWriteStreamRequest{Name: pend.GetName()})
	if _, err := c.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: tablePath, WriteStreams: []string{pend.GetName()}}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Rows("p", "d", "t")); n != 2 {
		t.Errorf("%d rows visible, want 2 (one flushed, one committed)", n)
	}
}

func TestDefaultStreamSchemaAndRows(t *testing.T) {
	srv, c := setup(t)
	def := tablePath + "/streams/_default"
	if r := appendRows(t, c, def, at(0), false, encode("a", 1)); code(r) != codes.InvalidArgument {
		t.Errorf("offset on _default: %v, want InvalidArgument", code(r))
	}
	if r := appendRows(t, c, def, nil, true, encode("a", 1)); code(r) != codes.InvalidArgument {
		t.Errorf("extra field: %v, want InvalidArgument", code(r))
	}
	bad := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "\xff")
	r := appendRows(t, c, def, nil, false, encode("ok", 1), bad, encode("ok2", 2))
	if code(r) != codes.InvalidArgument || len(r.GetRowErrors()) != 1 || r.GetRowErrors()[0].GetIndex() != 1 {
		t.Errorf("invalid UTF-8: %v, want one row error at index 1", r)
	}
	missing := protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 7)
	if r := appendRows(t, c, def, nil, false, missing); len(r.GetRowErrors()) != 1 {
		t.Errorf("missing REQUIRED id: %v, want a row error", r)
	}
	if n := len(srv.Rows("p", "d", "t")); n != 0 {
		t.Fatalf("%d rows written by failed appends", n)
	}
	appendRows(t, c, def, nil, false, encode("a", 1), encode("a", 1))
	rows := srv.Rows("p", "d", "t")
	if len(rows) != 2 || rows[0]["id"] != "a" || rows[0]["n"] != int64(1) {
		t.Errorf("rows = %v", rows)
	}
}

func TestInjectedFaults(t *testing.T) {
	srv, c := setup(t)
	def := tablePath + "/streams/_default"
	srv.FailAppends(codes.Unavailable)
	arc, _ := c.AppendRows(context.Background())
	arc.Send(&storagepb.AppendRowsRequest{WriteStream: def, Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: &storagepb.AppendRowsRequest_ProtoData{
		WriterSchema: &storagepb.ProtoSchema{ProtoDescriptor: descriptor(false)}, Rows: &storagepb.ProtoRows{SerializedRows: [][]byte{encode("a", 1)}}}}})
	if _, err := arc.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("injected failure: %v", err)
	}
	srv.DropAcks(1)
	arc, _ = c.AppendRows(context.Background())
	arc.Send(&storagepb.AppendRowsRequest{WriteStream: def, Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: &storagepb.AppendRowsRequest_ProtoData{
		WriterSchema: &storagepb.ProtoSchema{ProtoDescriptor: descriptor(false)}, Rows: &storagepb.ProtoRows{SerializedRows: [][]byte{encode("b", 2)}}}}})
	if _, err := arc.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("dropped ack: %v", err)
	}
	if rows := srv.Rows("p", "d", "t"); len(rows) != 1 || rows[0]["id"] != "b" {
		t.Errorf("rows = %v: the failed append must write nothing, the dropped ack its row", rows)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	c = dial(t, srv.addr) // the old connection broke with the server
	if r := appendRows(t, c, def, nil, false, encode("c", 3)); r.GetError() != nil {
		t.Errorf("after restart: %v", r.GetError())
	}
	if n := len(srv.Rows("p", "d", "t")); n != 2 {
		t.Errorf("%d rows after restart, want 2", n)
	}
}

// TestWatch: the watcher is told of every row when it becomes visible, and
// of nothing else: appends that write nothing, rows of streams not yet
// flushed or committed.
func TestWatch(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	var seen []string
	srv.Watch(func(table string, rows []map[string]any) {
		for _, r := range rows {
			seen = append(seen, table+":"+r["id"].(string))
		}
	})
	watched := func() []string {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return append([]string(nil), seen...)
	}
	com, _ := c.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath, WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED}})
	buf, _ := c.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath, WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_BUFFERED}})
	appendRows(t, c, com.GetName(), at(0), false, encode("c1", 1), encode("c2", 2))
	appendRows(t, c, com.GetName(), at(0), false, encode("c1", 1), encode("c2", 2)) // ALREADY_EXISTS
	appendRows(t, c, buf.GetName(), at(0), false, encode("b1", 1), encode("b2", 2))
	if got := strings.Join(watched(), " "); got != tablePath+":c1 "+tablePath+":c2" {
		t.Fatalf("watched %q before the flush", got)
	}
	if _, err := c.FlushRows(ctx, &storagepb.FlushRowsRequest{WriteStream: buf.GetName(), Offset: wrapperspb.Int64(0)}); err != nil {
		t.Fatal(err)
	}
	if got := watched(); len(got) != 3 || got[2] != tablePath+":b1" || len(srv.Rows("p", "d", "t")) != 3 {
		t.Fatalf("watched %v after flushing b1; rows %v", got, srv.Rows("p", "d", "t"))
	}
}

// TestRowModes: rows checked and not kept, or only counted; offsets answer
// the same in every mode.
func TestRowModes(t *testing.T) {
	bad := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "\xff")
	for _, tc := range []struct {
		mode              RowMode
		badRefused        bool
		watched, keptRows bool
	}{{KeepRows, true, true, true}, {CheckRows, true, true, false}, {CountRows, false, false, false}} {
		srv, c := setup(t)
		watched := 0
		srv.Watch(func(_ string, rows []map[string]any) { watched += len(rows) })
		srv.SetRowMode(tc.mode)
		ws, _ := c.CreateWriteStream(context.Background(), &storagepb.CreateWriteStreamRequest{Parent: tablePath, WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED}})
		if r := appendRows(t, c, ws.GetName(), at(0), false, bad); (code(r) == codes.InvalidArgument) != tc.badRefused {
			t.Errorf("mode %d: a row that is not UTF-8: %v", tc.mode, code(r))
		}
		end := int64(0)
		if !tc.badRefused {
			end = 1
		}
		if r := appendRows(t, c, ws.GetName(), at(end), false, encode("a", 1), encode("b", 2)); code(r) != codes.OK {
			t.Errorf("mode %d: append at the end: %v", tc.mode, code(r))
		}
		if r := appendRows(t, c, ws.GetName(), at(end), false, encode("a", 1)); code(r) != codes.AlreadyExists {
			t.Errorf("mode %d: append again: %v", tc.mode, code(r))
		}
		rows := srv.Rows("p", "d", "t")
		if int64(len(rows)) != end+2 || (rows[len(rows)-1] != nil) != tc.keptRows {
			t.Errorf("mode %d: rows %v", tc.mode, rows)
		}
		srv.mu.Lock()
		if (watched > 0) != tc.watched {
			t.Errorf("mode %d: watched %d rows", tc.mode, watched)
		}
		srv.mu.Unlock()
	}
}
