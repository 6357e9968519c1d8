package bigquerysink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// EnsureSchema brings the dataset up to what this release writes and
// queries: it creates the dataset (in cfg.Location), every table and every
// view that is missing, adds to existing tables the columns they lack (new
// fields of a new release: always NULLABLE or REPEATED, so the change is
// additive and old rows read NULL), and replaces views whose SQL changed.
// It never drops or narrows anything. Safe to run from several replicas.
func EnsureSchema(ctx context.Context, cfg Config, set Settings) error {
	set = set.withDefaults()
	tables, err := buildTables()
	if err != nil {
		return err
	}
	bq, err := newRESTClient(ctx, cfg)
	if err != nil {
		return err
	}
	defer bq.Close()
	ds := bq.Dataset(cfg.Dataset)
	if err := ensureDataset(ctx, ds, cfg.Location); err != nil {
		return err
	}
	for _, t := range tables {
		if err := ensureTable(ctx, ds, t, set); err != nil {
			return err
		}
	}
	for _, v := range Views(cfg.Project, cfg.Dataset) {
		if err := ensureView(ctx, ds, v, set); err != nil {
			return err
		}
	}
	return nil
}

func ensureDataset(ctx context.Context, ds *bigquery.Dataset, location string) error {
	_, err := ds.Metadata(ctx)
	if !isStatus(err, http.StatusNotFound) {
		return wrap("dataset "+ds.DatasetID, err)
	}
	err = ds.Create(ctx, &bigquery.DatasetMetadata{Location: location, Description: "AgentPhone calls and messages, written by agentphone-connector"})
	if isStatus(err, http.StatusConflict) { // another replica was quicker
		return nil
	}
	return wrap("create dataset "+ds.DatasetID, err)
}

func ensureTable(ctx context.Context, ds *bigquery.Dataset, t *table, set Settings) error {
	ref := ds.Table(t.Name)
	md, err := ref.Metadata(ctx)
	if isStatus(err, http.StatusNotFound) {
		err = ref.Create(ctx, tableMetadata(t))
		if isStatus(err, http.StatusConflict) {
			return nil
		}
		if err == nil {
			set.Logger.Info("bigquery table created", "table", t.Name)
		}
		return wrap("create table "+t.Name, err)
	}
	if err != nil {
		return wrap("table "+t.Name, err)
	}
	merged, added := mergeSchema(md.Schema, t.Schema, "")
	if len(added) == 0 {
		return nil
	}
	if _, err := ref.Update(ctx, bigquery.TableMetadataToUpdate{Schema: merged}, md.ETag); err != nil {
		return wrap("add columns to "+t.Name, err)
	}
	set.Logger.Info("bigquery columns added", "table", t.Name, "columns", strings.Join(added, ","))
	return nil
}

// tableMetadata is how a table is created: partitioned by day on its
// partition column, and clustered.
func tableMetadata(t *table) *bigquery.TableMetadata {
	return &bigquery.TableMetadata{
		Schema: t.Schema, Description: t.Doc,
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: t.Partition},
		Clustering:       &bigquery.Clustering{Fields: t.Cluster},
	}
}

// mergeSchema returns have with the columns of want it lacks appended (in
// RECORDs too), relaxed to NULLABLE, and the paths of those columns. A
// column whose type changed is left as it is: that is not an additive
// change, and rows keep failing until someone migrates the table.
func mergeSchema(have, want bigquery.Schema, prefix string) (bigquery.Schema, []string) {
	out := make(bigquery.Schema, 0, len(want))
	var added []string
	for _, h := range have {
		c := *h
		if w := field(want, h.Name); w != nil && h.Type == bigquery.RecordFieldType && w.Type == bigquery.RecordFieldType {
			var sub []string
			c.Schema, sub = mergeSchema(h.Schema, w.Schema, prefix+h.Name+".")
			added = append(added, sub...)
		}
		out = append(out, &c)
	}
	for _, w := range want {
		if field(have, w.Name) == nil {
			c := *w
			c.Required = false
			out = append(out, &c)
			added = append(added, prefix+w.Name)
		}
	}
	return out, added
}

func field(s bigquery.Schema, name string) *bigquery.FieldSchema {
	for _, f := range s {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func ensureView(ctx context.Context, ds *bigquery.Dataset, v View, set Settings) error {
	ref := ds.Table(v.Name)
	md, err := ref.Metadata(ctx)
	switch {
	case isStatus(err, http.StatusNotFound):
		err = ref.Create(ctx, &bigquery.TableMetadata{ViewQuery: v.SQL, Description: v.Doc})
		if isStatus(err, http.StatusConflict) {
			return nil
		}
		if err == nil {
			set.Logger.Info("bigquery view created", "view", v.Name)
		}
		return wrap("create view "+v.Name, err)
	case err != nil:
		return wrap("view "+v.Name, err)
	case strings.TrimSpace(md.ViewQuery) == strings.TrimSpace(v.SQL):
		return nil
	}
	_, err = ref.Update(ctx, bigquery.TableMetadataToUpdate{ViewQuery: v.SQL, Description: v.Doc}, md.ETag)
	if err == nil {
		set.Logger.Info("bigquery view replaced", "view", v.Name)
	}
	return wrap("replace view "+v.Name, err)
}

func isStatus(err error, code int) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == code
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bigquery %s: %w", what, err)
}
