package bigquerysink

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
)

// column is one BigQuery column derived from a Go struct field: its name is
// the field's JSON name, its type follows from the Go type.
//
//	string → STRING        bool → BOOLEAN       int* → INTEGER     float* → FLOAT
//	time.Time → TIMESTAMP  json.RawMessage → JSON []byte → BYTES
//	struct → RECORD        []T → REPEATED T     *T → T (NULL when nil)
//
// A field whose JSON tag has omitempty or omitzero is NULL when it holds its
// zero value, as it is absent from the JSON. A field tagged bq:"required" is
// a REQUIRED column; every other column is NULLABLE (or REPEATED), so new
// fields are always additive changes.
type column struct {
	name      string
	index     []int // field index path, through embedded structs
	typ       bigquery.FieldType
	repeated  bool
	required  bool
	omitEmpty bool
	sub       []column // the fields of a RECORD
	num       int32    // proto field number in the writer schema; set by plan
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// columnsOf returns the columns of struct type t, in field order. Embedded
// structs without a JSON name contribute their fields, as in encoding/json;
// fields tagged json:"-" and unexported fields are left out.
func columnsOf(t reflect.Type) ([]column, error) {
	var out []column
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			sub, err := columnsOf(f.Type)
			if err != nil {
				return nil, err
			}
			for _, c := range sub {
				c.index = append([]int{i}, c.index...)
				out = append(out, c)
			}
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		c, err := columnOf(name, f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		c.index = []int{i}
		c.omitEmpty = strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		c.required = f.Tag.Get("bq") == "required"
		out = append(out, c)
	}
	return out, nil
}

// columnOf maps one Go type to a column.
func columnOf(name string, t reflect.Type) (column, error) {
	c := column{name: name}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t != rawType && t.Elem().Kind() != reflect.Uint8 {
		c.repeated = true
		t = t.Elem()
	}
	switch {
	case t == timeType:
		c.typ = bigquery.TimestampFieldType
	case t == rawType:
		c.typ = bigquery.JSONFieldType
	case t.Kind() == reflect.Slice: // []byte
		c.typ = bigquery.BytesFieldType
	case t.Kind() == reflect.String:
		c.typ = bigquery.StringFieldType
	case t.Kind() == reflect.Bool:
		c.typ = bigquery.BooleanFieldType
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64, t.Kind() >= reflect.Uint8 && t.Kind() <= reflect.Uint32:
		c.typ = bigquery.IntegerFieldType
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		c.typ = bigquery.FloatFieldType
	case t.Kind() == reflect.Struct:
		sub, err := columnsOf(t)
		if err != nil {
			return c, err
		}
		c.typ, c.sub = bigquery.RecordFieldType, sub
	default:
		return c, fmt.Errorf("no BigQuery type for Go type %s", t)
	}
	return c, nil
}

// bqSchema returns the BigQuery schema of the columns.
func bqSchema(cols []column) bigquery.Schema {
	out := make(bigquery.Schema, len(cols))
	for i, c := range cols {
		out[i] = &bigquery.FieldSchema{
			Name: c.name, Type: c.typ, Repeated: c.repeated, Required: c.required,
			Schema: bqSchemaOrNil(c.sub),
		}
	}
	return out
}

func bqSchemaOrNil(cols []column) bigquery.Schema {
	if cols == nil {
		return nil
	}
	return bqSchema(cols)
}

// without returns cols less the named top-level columns.
func without(cols []column, names ...string) []column {
	var out []column
	for _, c := range cols {
		drop := false
		for _, n := range names {
			drop = drop || c.name == n
		}
		if !drop {
			out = append(out, c)
		}
	}
	return out
}
