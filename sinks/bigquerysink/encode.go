package bigquerysink

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// writerSchema is how rows of a table are sent: the proto2 message derived
// from the table schema (as the Storage Write API documents) and the field
// numbers of every column.
type writerSchema struct {
	storage *storagepb.TableSchema
	desc    *descriptorpb.DescriptorProto
}

// newWriterSchema derives the writer schema of t and numbers t's columns.
func newWriterSchema(t *table) (*writerSchema, error) {
	ts, err := adapt.BQSchemaToStorageTableSchema(t.Schema)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "root")
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("table %s: descriptor is not a message", t.Name)
	}
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	for _, p := range t.parts {
		if err := number(p, md); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	return &writerSchema{storage: ts, desc: dp}, nil
}

// number sets the proto field number of every column from the message.
func number(cols []column, md protoreflect.MessageDescriptor) error {
	for i := range cols {
		f := md.Fields().ByName(protoreflect.Name(cols[i].name))
		if f == nil {
			return fmt.Errorf("column %s has no proto field", cols[i].name)
		}
		cols[i].num = int32(f.Number())
		if cols[i].sub != nil {
			if err := number(cols[i].sub, f.Message()); err != nil {
				return err
			}
		}
	}
	return nil
}

// encode appends the serialized proto message of r, a row of t, to b.
func (t *table) encode(b []byte, r row) []byte {
	for i, cols := range t.parts {
		b = appendFields(b, cols, r[i])
	}
	return b
}

// appendFields appends the fields of struct value v, one per column.
func appendFields(b []byte, cols []column, v reflect.Value) []byte {
	for i := range cols {
		c := &cols[i]
		f := v.FieldByIndex(c.index)
		ptr := f.Kind() == reflect.Pointer
		if ptr {
			if f.IsNil() {
				continue
			}
			f = f.Elem() // omitempty on a pointer leaves out nil only, as in JSON
		}
		if c.repeated {
			for j := range f.Len() {
				b = appendValue(b, c, f.Index(j))
			}
			continue
		}
		if c.omitEmpty && !ptr && (f.IsZero() || f.Kind() == reflect.Slice && f.Len() == 0) {
			continue
		}
		b = appendValue(b, c, f)
	}
	return b
}

// appendValue appends one field: the wire types are those adapt gives each
// BigQuery type (TIMESTAMP as int64 microseconds, JSON as string).
func appendValue(b []byte, c *column, v reflect.Value) []byte {
	num := protowire.Number(c.num)
	switch c.typ {
	case bigquery.StringFieldType:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, v.String())
	case bigquery.JSONFieldType, bigquery.BytesFieldType:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes())
	case bigquery.IntegerFieldType:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		if v.CanInt() {
			return protowire.AppendVarint(b, uint64(v.Int()))
		}
		return protowire.AppendVarint(b, v.Uint())
	case bigquery.FloatFieldType:
		b = protowire.AppendTag(b, num, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.Float()))
	case bigquery.BooleanFieldType:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool()))
	case bigquery.TimestampFieldType:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.Interface().(time.Time).UnixMicro()))
	case bigquery.RecordFieldType:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, appendFields(nil, c.sub, v))
	}
	return b // columnOf makes no other type
}
