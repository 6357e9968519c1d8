package bqwritetest

import (
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/protobuf/types/descriptorpb"
)

// DecodeRow decodes one serialized row, written with the writer's message
// dp, for a table of schema, and checks its values as an append does (see
// the package comment): a row it refuses is one BigQuery would refuse. It
// returns the row as Rows does. It is for checking what a writer makes
// without a server, in a fuzz test say.
func DecodeRow(dp *descriptorpb.DescriptorProto, schema *storagepb.TableSchema, row []byte) (map[string]any, error) {
	md, err := messageDescriptor(dp)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(md, schema.GetFields()); err != nil {
		return nil, err
	}
	return decodeRow(md, schema.GetFields(), row)
}
