package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/permafrost/permafrost/internal/treehash"
)

// millis is the column value of t: Unix milliseconds, or NULL for the zero
// time.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// timeCol scans a column written by millis, in UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		*c.t = time.Time{}
	} else {
		*c.t = time.UnixMilli(v.Int64).UTC()
	}
	return nil
}

// hashCol scans a 32-byte bytea into a hash.
type hashCol struct{ h *treehash.Hash }

func (c hashCol) ScanBytes(b []byte) error {
	if len(b) != len(c.h) {
		return fmt.Errorf("hash column holds %d bytes, want %d", len(b), len(c.h))
	}
	copy(c.h[:], b)
	return nil
}

// optHashCol scans a nullable 32-byte bytea into a *Hash (nil for NULL).
type optHashCol struct{ h **treehash.Hash }

func (c optHashCol) ScanBytes(b []byte) error {
	if b == nil {
		*c.h = nil
		return nil
	}
	var h treehash.Hash
	if err := (hashCol{&h}).ScanBytes(b); err != nil {
		return err
	}
	*c.h = &h
	return nil
}

// zeroableHashCol scans a nullable hash into a Hash (zero for NULL).
type zeroableHashCol struct{ h *treehash.Hash }

func (c zeroableHashCol) ScanBytes(b []byte) error {
	if b == nil {
		*c.h = treehash.Hash{}
		return nil
	}
	return hashCol(c).ScanBytes(b)
}

// optHash is the column value of a *Hash.
func optHash(h *treehash.Hash) any {
	if h == nil {
		return nil
	}
	return h[:]
}

// leavesCol scans a leaf list and appends its hashes to *l.
type leavesCol struct{ l *[]treehash.Hash }

func (c leavesCol) ScanBytes(b []byte) error {
	l, err := treehash.DecodeLeaves(b)
	if err != nil {
		return err
	}
	*c.l = append(*c.l, l...)
	return nil
}

// encodeLeaves returns leaves as a bytea column value: never nil, which
// would be NULL.
func encodeLeaves(leaves []treehash.Hash) []byte {
	b := treehash.EncodeLeaves(leaves)
	if b == nil {
		b = []byte{}
	}
	return b
}

// queryStrings returns the single text column of a query's rows.
func queryStrings(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]string, error) {
	var list []string
	err := scanAll(ctx, tx, func(s scanner) error {
		var v string
		if err := s.Scan(&v); err != nil {
			return err
		}
		list = append(list, v)
		return nil
	}, query, args...)
	return list, err
}

// queryLeaves returns the concatenated leaf lists of a query's rows, whose
// single column is a leaf list.
func queryLeaves(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]treehash.Hash, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var leaves []treehash.Hash
	for rows.Next() {
		if err := rows.Scan(leavesCol{&leaves}); err != nil {
			return nil, err
		}
	}
	return leaves, rows.Err()
}

// scanner is what pgx.Row and pgx.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// scanAll scans every row of a query with scan, which appends to a list it
// captures.
func scanAll(ctx context.Context, tx pgx.Tx, scan func(s scanner) error, query string, args ...any) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
