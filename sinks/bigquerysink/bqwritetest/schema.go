package bqwritetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The TIMESTAMP range BigQuery accepts, in microseconds since the epoch.
const (
	minTimestamp = -62135596800000000 // 0001-01-01T00:00:00Z
	maxTimestamp = 253402300799999999 // 9999-12-31T23:59:59.999999Z
)

// messageDescriptor builds the writer's message from its self-contained descriptor.
func messageDescriptor(dp *descriptorpb.DescriptorProto) (protoreflect.MessageDescriptor, error) {
	if dp == nil {
		return nil, errors.New("no proto descriptor")
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("writer.proto"), Syntax: proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{dp},
	}, nil)
	if err != nil {
		return nil, err
	}
	return fd.Messages().Get(0), nil
}

// column finds a table column by name, as BigQuery does: case-insensitively.
func column(fields []*storagepb.TableFieldSchema, name string) *storagepb.TableFieldSchema {
	for _, f := range fields {
		if strings.EqualFold(f.GetName(), name) {
			return f
		}
	}
	return nil
}

// checkSchema reports how the writer's message does not match the columns.
func checkSchema(md protoreflect.MessageDescriptor, cols []*storagepb.TableFieldSchema) error {
	var errs []error
	fields := md.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		col := column(cols, string(f.Name()))
		if col == nil {
			errs = append(errs, fmt.Errorf("input schema has more fields than the BigQuery schema, extra field: %q", f.Name()))
			continue
		}
		if err := checkField(f, col); err != nil {
			errs = append(errs, err)
		}
	}
	for _, col := range cols {
		if col.GetMode() == storagepb.TableFieldSchema_REQUIRED && fields.ByTextName(col.GetName()) == nil && byFold(fields, col.GetName()) == nil {
			errs = append(errs, fmt.Errorf("required column %q is missing from the input schema", col.GetName()))
		}
	}
	return errors.Join(errs...)
}

func byFold(fields protoreflect.FieldDescriptors, name string) protoreflect.FieldDescriptor {
	for i := range fields.Len() {
		if strings.EqualFold(string(fields.Get(i).Name()), name) {
			return fields.Get(i)
		}
	}
	return nil
}

// compatible lists the proto kinds each column type accepts.
var compatible = map[storagepb.TableFieldSchema_Type][]protoreflect.Kind{
	storagepb.TableFieldSchema_STRING:    {protoreflect.StringKind},
	storagepb.TableFieldSchema_JSON:      {protoreflect.StringKind},
	storagepb.TableFieldSchema_BYTES:     {protoreflect.BytesKind},
	storagepb.TableFieldSchema_BOOL:      {protoreflect.BoolKind},
	storagepb.TableFieldSchema_INT64:     {protoreflect.Int64Kind, protoreflect.Int32Kind, protoreflect.Sint64Kind, protoreflect.Uint32Kind},
	storagepb.TableFieldSchema_TIMESTAMP: {protoreflect.Int64Kind, protoreflect.Sint64Kind},
	storagepb.TableFieldSchema_DOUBLE:    {protoreflect.DoubleKind, protoreflect.FloatKind},
	storagepb.TableFieldSchema_DATE:      {protoreflect.Int32Kind, protoreflect.Int64Kind},
	storagepb.TableFieldSchema_STRUCT:    {protoreflect.MessageKind},
}

func checkField(f protoreflect.FieldDescriptor, col *storagepb.TableFieldSchema) error {
	ok := false
	for _, k := range compatible[col.GetType()] {
		ok = ok || f.Kind() == k
	}
	if !ok {
		return fmt.Errorf("field %q: proto kind %s does not fit column type %s", f.Name(), f.Kind(), col.GetType())
	}
	if f.IsList() != (col.GetMode() == storagepb.TableFieldSchema_REPEATED) {
		return fmt.Errorf("field %q: repeated does not match column mode %s", f.Name(), col.GetMode())
	}
	if col.GetType() == storagepb.TableFieldSchema_STRUCT {
		if err := checkSchema(f.Message(), col.GetFields()); err != nil {
			return fmt.Errorf("field %q: %w", f.Name(), err)
		}
	}
	return nil
}

// decodeRow decodes one serialized row with the writer's message and checks
// its values against the columns.
func decodeRow(md protoreflect.MessageDescriptor, cols []*storagepb.TableFieldSchema, b []byte) (map[string]any, error) {
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("cannot decode the row: %w", err)
	}
	return toMap(m, cols)
}

func toMap(m protoreflect.Message, cols []*storagepb.TableFieldSchema) (map[string]any, error) {
	out := map[string]any{}
	var errs []error
	m.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		col := column(cols, string(f.Name()))
		name := col.GetName()
		if !f.IsList() {
			val, err := value(col, v)
			out[name] = val
			errs = append(errs, err)
			return true
		}
		list := v.List()
		vals := make([]any, list.Len())
		for i := range list.Len() {
			var err error
			vals[i], err = value(col, list.Get(i))
			errs = append(errs, err)
		}
		out[name] = vals
		return true
	})
	for _, col := range cols {
		if _, ok := out[col.GetName()]; !ok && col.GetMode() == storagepb.TableFieldSchema_REQUIRED {
			errs = append(errs, fmt.Errorf("required column %q has no value", col.GetName()))
		}
	}
	return out, errors.Join(errs...)
}

// value converts one proto value to its Go form, checking what BigQuery checks.
func value(col *storagepb.TableFieldSchema, v protoreflect.Value) (any, error) {
	name := col.GetName()
	switch col.GetType() {
	case storagepb.TableFieldSchema_STRING:
		if !utf8.ValidString(v.String()) {
			return nil, fmt.Errorf("column %q: STRING is not valid UTF-8", name)
		}
		return v.String(), nil
	case storagepb.TableFieldSchema_JSON:
		if !json.Valid([]byte(v.String())) {
			return nil, fmt.Errorf("column %q: not a valid JSON value", name)
		}
		return v.String(), nil
	case storagepb.TableFieldSchema_TIMESTAMP:
		if us := v.Int(); us < minTimestamp || us > maxTimestamp {
			return nil, fmt.Errorf("column %q: TIMESTAMP %d is out of range", name, us)
		}
		return v.Int(), nil
	case storagepb.TableFieldSchema_INT64, storagepb.TableFieldSchema_DATE:
		if u, ok := v.Interface().(uint32); ok {
			return int64(u), nil
		}
		return v.Int(), nil
	case storagepb.TableFieldSchema_DOUBLE:
		return v.Float(), nil
	case storagepb.TableFieldSchema_BOOL:
		return v.Bool(), nil
	case storagepb.TableFieldSchema_BYTES:
		return append([]byte(nil), v.Bytes()...), nil
	case storagepb.TableFieldSchema_STRUCT:
		return toMap(v.Message(), col.GetFields())
	}
	return nil, fmt.Errorf("column %q: type %s is not supported by bqwritetest", name, col.GetType())
}
