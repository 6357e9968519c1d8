package bqwritetest

import (
	"errors"
	"io"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// errDropped ends a connection after a write whose answer is "lost".
var errDropped = status.Error(codes.Unavailable, "bqwritetest: connection reset after the append was written")

// AppendRows serves one bidirectional append connection. Like BigQuery, it
// takes the stream name and writer schema from the first request (later
// ones may change them) and answers every request in order.
func (s *Server) AppendRows(srv storagepb.BigQueryWrite_AppendRowsServer) error {
	var (
		streamName string
		desc       protoreflect.MessageDescriptor
	)
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n := req.GetWriteStream(); n != "" {
			streamName = n
		}
		if ws := req.GetProtoRows().GetWriterSchema(); ws != nil {
			if desc, err = messageDescriptor(ws.GetProtoDescriptor()); err != nil {
				return status.Errorf(codes.InvalidArgument, "invalid writer schema: %v", err)
			}
		}
		if streamName == "" || desc == nil {
			return status.Error(codes.InvalidArgument, "the first request of a connection must carry the write stream and the writer schema")
		}
		resp, late, err := s.append(streamName, desc, req)
		if err != nil {
			return err
		}
		if late > 0 { // written; the answer comes after the client gave up on it
			t := time.NewTimer(late)
			select {
			case <-t.C:
			case <-srv.Context().Done():
				t.Stop()
				return srv.Context().Err()
			}
		}
		if err := srv.Send(resp); err != nil {
			return err
		}
	}
}

// append handles one request. A non-nil error ends the connection without
// an answer (an injected fault); any other outcome is the response, to be
// sent after late (an injected delay).
func (s *Server) append(name string, desc protoreflect.MessageDescriptor, req *storagepb.AppendRowsRequest) (*storagepb.AppendRowsResponse, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appends++
	if len(s.fail) > 0 {
		c := s.fail[0]
		s.fail = s.fail[1:]
		return nil, 0, status.Errorf(c, "bqwritetest: injected %s", c)
	}
	resp := &storagepb.AppendRowsResponse{WriteStream: name}
	st, t, err := s.lookup(name)
	if err != nil {
		resp.Response = errResponse(err)
		return resp, 0, nil
	}
	rows, rowErrs, err := s.check(st, desc, req)
	if err != nil {
		resp.Response = errResponse(err)
		resp.RowErrors = rowErrs
		return resp, 0, nil
	}
	if st.typ == storagepb.WriteStream_COMMITTED { // the _default stream too: lookup says COMMITTED
		s.show(st.table, t, rows)
	}
	if !isDefaultName(st.name) {
		st.rows = append(st.rows, s.kept(rows)...)
	}
	if off := req.GetOffset(); off != nil {
		resp.Response = &storagepb.AppendRowsResponse_AppendResult_{AppendResult: &storagepb.AppendRowsResponse_AppendResult{Offset: wrapperspb.Int64(off.GetValue())}}
	} else {
		resp.Response = &storagepb.AppendRowsResponse_AppendResult_{AppendResult: &storagepb.AppendRowsResponse_AppendResult{}}
	}
	if s.drop > 0 {
		s.drop--
		return nil, 0, errDropped
	}
	if s.late > 0 {
		s.late--
		return resp, s.lateBy, nil
	}
	return resp, 0, nil
}

func isDefaultName(name string) bool { _, ok := defaultStream(name); return ok }

// check applies BigQuery's rules to an append and returns the decoded rows,
// or the error of the response (with the row errors, if rows are at fault).
func (s *Server) check(st *stream, desc protoreflect.MessageDescriptor, req *storagepb.AppendRowsRequest) ([]map[string]any, []*storagepb.RowError, error) {
	if st.finalized {
		return nil, nil, storageErr(codes.InvalidArgument, storagepb.StorageError_STREAM_FINALIZED, st.name, "stream is finalized")
	}
	if err := checkSchema(desc, st.schema.GetFields()); err != nil {
		return nil, nil, storageErr(codes.InvalidArgument, storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS, st.name, err.Error())
	}
	if off := req.GetOffset(); off != nil {
		end := int64(len(st.rows))
		switch {
		case isDefaultName(st.name):
			return nil, nil, status.Error(codes.InvalidArgument, "offsets are not supported on the _default stream")
		case off.GetValue() < end:
			return nil, nil, storageErr(codes.AlreadyExists, storagepb.StorageError_OFFSET_ALREADY_EXISTS, st.name, "offset already exists")
		case off.GetValue() > end:
			return nil, nil, storageErr(codes.OutOfRange, storagepb.StorageError_OFFSET_OUT_OF_RANGE, st.name, "offset beyond the end of the stream")
		}
	}
	serialized := req.GetProtoRows().GetRows().GetSerializedRows()
	rows := make([]map[string]any, len(serialized))
	if s.mode == CountRows {
		return rows, nil, nil
	}
	var rowErrs []*storagepb.RowError
	for i, b := range serialized {
		row, err := decodeRow(desc, st.schema.GetFields(), b)
		if err != nil {
			rowErrs = append(rowErrs, &storagepb.RowError{Index: int64(i), Code: storagepb.RowError_FIELDS_ERROR, Message: err.Error()})
		}
		rows[i] = row
	}
	if rowErrs != nil {
		return nil, rowErrs, status.Errorf(codes.InvalidArgument, "errors found while processing rows: %d rows rejected; no row was appended", len(rowErrs))
	}
	return rows, nil, nil
}

func errResponse(err error) *storagepb.AppendRowsResponse_Error {
	return &storagepb.AppendRowsResponse_Error{Error: status.Convert(err).Proto()}
}
