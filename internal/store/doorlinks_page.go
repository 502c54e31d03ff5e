package store

import (
	"context"

	"relais/internal/model"
)

// FindDoorLinkByToken returns the door link whose token is tok, whether or not it is
// still usable: the door page tells a revoked or expired link from an unknown one.
func (s *Store) FindDoorLinkByToken(ctx context.Context, tok string) (*model.DoorLink, error) {
	var d model.DoorLink
	return &d, wrap(s.r(ctx).Where("token = ?", tok).First(&d).Error, "find door link")
}
