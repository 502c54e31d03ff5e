package store

import (
	"context"
	"testing"
)

// After ReleaseMemory the store reads and writes as before: the readers it closed open
// again on demand, and the writer's cache fills again.
func TestReleaseMemoryKeepsTheStoreWorking(t *testing.T) {
	ctx := context.Background()
	s := notesStore(t)
	if err := s.db.Exec("INSERT INTO notes (body) VALUES ('avant')").Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := s.read.Raw("SELECT count(*) FROM notes").Scan(&n).Error; err != nil || n != 1 {
		t.Fatalf("before: %d rows, %v", n, err)
	}
	rdb, _ := s.read.DB()
	if rdb.Stats().Idle == 0 {
		t.Fatal("no idle reader before ReleaseMemory: the test proves nothing")
	}
	if err := s.ReleaseMemory(ctx); err != nil {
		t.Fatal(err)
	}
	if idle := rdb.Stats().Idle; idle != 0 {
		t.Errorf("%d idle readers kept after ReleaseMemory", idle)
	}
	if err := s.db.Exec("INSERT INTO notes (body) VALUES ('après')").Error; err != nil {
		t.Fatal(err)
	}
	if err := s.read.Raw("SELECT count(*) FROM notes").Scan(&n).Error; err != nil || n != 2 {
		t.Fatalf("after: %d rows, %v", n, err)
	}
	if rdb.Stats().Idle == 0 {
		t.Error("the reader used after ReleaseMemory was not kept for the next request")
	}
}
