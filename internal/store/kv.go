package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

type keyValue struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

func (keyValue) TableName() string { return "key_values" }

// GetOrInitValue returns the value stored under key; when there is none it stores
// gen()'s result first. Concurrent instances agree on a single value.
func (s *Store) GetOrInitValue(ctx context.Context, key string, gen func() (string, error)) (string, error) {
	var kv keyValue
	if err := s.w(ctx).Where("key = ?", key).Limit(1).Find(&kv).Error; err != nil {
		return "", wrap(err, "read value")
	}
	if kv.Key != "" {
		return kv.Value, nil
	}
	v, err := gen()
	if err != nil {
		return "", err
	}
	if err := s.w(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&keyValue{Key: key, Value: v}).Error; err != nil {
		return "", wrap(err, "store value")
	}
	err = s.w(ctx).Where("key = ?", key).First(&kv).Error
	return kv.Value, wrap(err, "read value")
}

// SetValue stores a value under key.
func (s *Store) SetValue(ctx context.Context, key, value string) error {
	err := s.w(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"}),
	}).Create(&keyValue{Key: key, Value: value}).Error
	return wrap(err, "set value")
}

// DeleteValue removes a key, returning whether it existed. It is how one-time tokens are spent.
func (s *Store) DeleteValue(ctx context.Context, key string) (bool, error) {
	res := s.w(ctx).Where("key = ?", key).Delete(&keyValue{})
	return res.RowsAffected == 1, wrap(res.Error, "delete value")
}

// GetValue returns the value under key and whether it exists.
func (s *Store) GetValue(ctx context.Context, key string) (string, bool, error) {
	var kv keyValue
	err := s.r(ctx).Where("key = ?", key).Limit(1).Find(&kv).Error
	return kv.Value, kv.Key != "", wrap(err, "read value")
}

type rateLimit struct {
	Key         string `gorm:"primaryKey"`
	WindowStart time.Time
	Count       int
}

func (rateLimit) TableName() string { return "rate_limits" }

// HitRateLimit counts one hit on key in a fixed window and reports whether the hit is
// within limit, and if not when the window ends. Counters live in the database so that
// every instance shares them.
func (s *Store) HitRateLimit(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	_, ok, wait, err := s.HitRateLimitN(ctx, key, limit, window)
	return ok, wait, err
}

// HitRateLimitN is HitRateLimit that also returns how many hits the window holds now.
func (s *Store) HitRateLimitN(ctx context.Context, key string, limit int, window time.Duration) (int, bool, time.Duration, error) {
	now := s.Now()
	var out rateLimit
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).Where("key = ?", key).Limit(1).Find(&out).Error; err != nil {
			return err
		}
		if out.Key == "" {
			out = rateLimit{Key: key, WindowStart: now, Count: 1}
			return tx.db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "key"}},
				DoUpdates: clause.Assignments(map[string]any{"count": clause.Expr{SQL: "rate_limits.count + 1"}}),
			}).Create(&out).Error
		}
		if now.Sub(out.WindowStart) >= window {
			out.WindowStart, out.Count = now, 1
		} else {
			out.Count++
		}
		return tx.db.Save(&out).Error
	})
	if err != nil {
		return 0, true, 0, wrap(err, "count rate")
	}
	if out.Count > limit {
		return out.Count, false, window - now.Sub(out.WindowStart), nil
	}
	return out.Count, true, 0, nil
}

// ResetRateLimit forgets a key's counter (after a successful login, for instance).
func (s *Store) ResetRateLimit(ctx context.Context, key string) error {
	return wrap(s.w(ctx).Where("key = ?", key).Delete(&rateLimit{}).Error, "reset rate")
}

// PruneRateLimits deletes counters whose window started before cutoff.
func (s *Store) PruneRateLimits(ctx context.Context, cutoff time.Time) error {
	return wrap(s.w(ctx).Where("window_start < ?", cutoff).Delete(&rateLimit{}).Error, "prune rates")
}
