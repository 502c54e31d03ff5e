package store

import "gorm.io/gorm"

// DB gives tests of package store_test the write connection's gorm handle.
func (s *Store) DB() *gorm.DB { return s.db }
