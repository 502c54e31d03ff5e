package store

import (
	"context"

	"gorm.io/gorm"
)

// DB gives tests of package store_test the write connection's gorm handle.
func (s *Store) DB() *gorm.DB { return s.db }

// ReadSetting reads a session setting of PostgreSQL the way the marker reads (over its
// read connection).
func (m *SentMarker) ReadSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := m.read(ctx, "read setting", func(query queryFunc) error {
		rows, err := query("SELECT current_setting($1)", name)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			return rows.Err()
		}
		return rows.Scan(&v)
	})
	return v, err
}

const ShareRecent = shareRecent
