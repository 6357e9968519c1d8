package bqwritetest

import (
	"context"
	"fmt"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// storageErr returns a gRPC status error carrying a StorageError detail, as
// BigQuery does.
func storageErr(c codes.Code, sc storagepb.StorageError_StorageErrorCode, entity, msg string) error {
	st := status.New(c, msg)
	if d, err := st.WithDetails(&storagepb.StorageError{Code: sc, Entity: entity, ErrorMessage: msg}); err == nil {
		st = d
	}
	return st.Err()
}

// CreateWriteStream creates a COMMITTED, PENDING or BUFFERED stream on an
// existing table. The stream keeps the table's schema of this moment.
func (s *Server) CreateWriteStream(_ context.Context, req *storagepb.CreateWriteStreamRequest) (*storagepb.WriteStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[req.GetParent()]
	if !ok {
		return nil, storageErr(codes.NotFound, storagepb.StorageError_TABLE_NOT_FOUND, req.GetParent(), "table not found")
	}
	typ := req.GetWriteStream().GetType()
	switch typ {
	case storagepb.WriteStream_COMMITTED, storagepb.WriteStream_PENDING, storagepb.WriteStream_BUFFERED:
	default:
		return nil, status.Errorf(codes.InvalidArgument, "stream type %s cannot be created", typ)
	}
	s.seq++
	st := &stream{
		name: fmt.Sprintf("%s/streams/s%d", req.GetParent(), s.seq), table: req.GetParent(),
		typ: typ, schema: proto.CloneOf(t.schema),
	}
	s.streams[st.name] = st
	return st.proto(), nil
}

func (st *stream) proto() *storagepb.WriteStream {
	return &storagepb.WriteStream{
		Name: st.name, Type: st.typ, CreateTime: timestamppb.Now(), TableSchema: st.schema,
		WriteMode: storagepb.WriteStream_INSERT, Location: "US",
	}
}

// GetWriteStream describes a stream, a table's _default stream included.
func (s *Server) GetWriteStream(_ context.Context, req *storagepb.GetWriteStreamRequest) (*storagepb.WriteStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	ws := st.proto()
	if _, ok := defaultStream(st.name); ok {
		ws.Type = storagepb.WriteStream_COMMITTED
	}
	return ws, nil
}

// FinalizeWriteStream closes a stream to appends and reports its row count.
// The _default stream cannot be finalized.
func (s *Server) FinalizeWriteStream(_ context.Context, req *storagepb.FinalizeWriteStreamRequest) (*storagepb.FinalizeWriteStreamResponse, error) {
	if _, ok := defaultStream(req.GetName()); ok {
		return nil, status.Error(codes.InvalidArgument, "the _default stream cannot be finalized")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	st.finalized = true
	return &storagepb.FinalizeWriteStreamResponse{RowCount: int64(len(st.rows))}, nil
}

// BatchCommitWriteStreams makes the rows of finalized PENDING streams
// visible, all of them or none.
func (s *Server) BatchCommitWriteStreams(_ context.Context, req *storagepb.BatchCommitWriteStreamsRequest) (*storagepb.BatchCommitWriteStreamsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var todo []*stream
	for _, name := range req.GetWriteStreams() {
		st, ok := s.streams[name]
		switch {
		case !ok:
			return nil, storageErr(codes.NotFound, storagepb.StorageError_STREAM_NOT_FOUND, name, "stream not found")
		case st.table != req.GetParent():
			return nil, status.Errorf(codes.InvalidArgument, "stream %s is not on %s", name, req.GetParent())
		case st.typ != storagepb.WriteStream_PENDING:
			return nil, status.Errorf(codes.InvalidArgument, "stream %s is not PENDING", name)
		case !st.finalized:
			return nil, storageErr(codes.FailedPrecondition, storagepb.StorageError_INVALID_STREAM_STATE, name, "stream not finalized")
		case st.committed:
			return nil, storageErr(codes.FailedPrecondition, storagepb.StorageError_STREAM_ALREADY_COMMITTED, name, "stream already committed")
		}
		todo = append(todo, st)
	}
	for _, st := range todo {
		st.committed = true
		s.show(st.table, s.tables[st.table], st.rows)
	}
	return &storagepb.BatchCommitWriteStreamsResponse{CommitTime: timestamppb.Now()}, nil
}

// FlushRows makes the rows of a BUFFERED stream visible up to and including offset.
func (s *Server) FlushRows(_ context.Context, req *storagepb.FlushRowsRequest) (*storagepb.FlushRowsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, t, err := s.lookup(req.GetWriteStream())
	if err != nil {
		return nil, err
	}
	if st.typ != storagepb.WriteStream_BUFFERED {
		return nil, status.Errorf(codes.InvalidArgument, "FlushRows needs a BUFFERED stream, %s is %s", st.name, st.typ)
	}
	off := req.GetOffset().GetValue()
	if off >= int64(len(st.rows)) {
		return nil, storageErr(codes.OutOfRange, storagepb.StorageError_OFFSET_OUT_OF_RANGE, st.name, "flush offset beyond the end of the stream")
	}
	if off+1 > st.flushed {
		s.show(st.table, t, st.rows[st.flushed:off+1])
		st.flushed = off + 1
	}
	return &storagepb.FlushRowsResponse{Offset: off}, nil
}
