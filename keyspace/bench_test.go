package keyspace

import (
	"fmt"
	"testing"
)

// The write paths a broker hits on every message: look a queue up for
// writing and push onto it, overwrite a string, create and delete a key.
// They measure what the snapshot hooks cost when no snapshot is open.

const benchKeys = 1024

func benchKeyspace(b *testing.B) (*DB, [][]byte) {
	b.Helper()
	ks := New(1, &ManualClock{Ms: 1_700_000_000_000}, nil)
	db := ks.DB(0)
	keys := make([][]byte, benchKeys)
	for i := range keys {
		keys[i] = []byte(fmt.Sprint("key:", i))
	}
	return db, keys
}

func BenchmarkLookupWrite(b *testing.B) {
	db, keys := benchKeyspace(b)
	for _, k := range keys {
		db.SetString(k, []byte("v"), EncEmbstr, false)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if db.Lookup(keys[i%benchKeys], LookupWrite) == nil {
			b.Fatal("missing key")
		}
	}
}

func BenchmarkLookupWriteListPush(b *testing.B) {
	db, keys := benchKeyspace(b)
	for _, k := range keys {
		db.SetAggregate(k, TypeList, NewList())
	}
	msg := make([]byte, 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := db.Lookup(keys[i%benchKeys], LookupWrite)
		l := e.Agg().(*List)
		l.PushTail(msg)
		if l.Len() > 16 {
			l.PopHead()
		}
		db.Reaccount(e)
	}
}

func BenchmarkSetStringOverwrite(b *testing.B) {
	db, keys := benchKeyspace(b)
	v := []byte("0123456789")
	for _, k := range keys {
		db.SetString(k, v, EncEmbstr, false)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db.SetString(keys[i%benchKeys], v, EncEmbstr, false)
	}
}

func BenchmarkSetStringDelete(b *testing.B) {
	db, keys := benchKeyspace(b)
	v := []byte("0123456789")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i%benchKeys]
		db.SetString(k, v, EncEmbstr, false)
		db.Delete(k)
	}
}

// BenchmarkLookupWriteSnapshotOpen is BenchmarkLookupWrite while a snapshot
// is open and has already emitted every key: the price of the stamp check.
func BenchmarkLookupWriteSnapshotOpen(b *testing.B) {
	db, keys := benchKeyspace(b)
	for _, k := range keys {
		db.SetString(k, []byte("v"), EncEmbstr, false)
	}
	s := db.ks.BeginSnapshot(func(int, *Entry) {})
	defer s.Close()
	for _, k := range keys {
		db.Lookup(k, LookupWrite)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if db.Lookup(keys[i%benchKeys], LookupWrite) == nil {
			b.Fatal("missing key")
		}
	}
}

// BenchmarkSnapshotWalk measures Step walking 100k keys nobody writes to,
// in steps of 1000 (the engine's emit excluded).
func BenchmarkSnapshotWalk(b *testing.B) {
	ks := New(1, &ManualClock{Ms: 1_700_000_000_000}, nil)
	db := ks.DB(0)
	for i := range 100_000 {
		db.SetString(fmt.Appendf(nil, "key:%d", i), []byte("v"), EncEmbstr, false)
	}
	emitted := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := ks.BeginSnapshot(func(int, *Entry) { emitted++ })
		for !s.Step(1000) {
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(emitted), "ns/key")
}
