package store

import (
	"context"
	"strings"
	"time"

	"relais/internal/model"
)

// CreateCoverage inserts a coverage item. The same URL twice for one event is a
// conflict (UNIQUE (event_id, url)).
func (s *Store) CreateCoverage(ctx context.Context, c *model.Coverage) error {
	return wrap(s.w(ctx).Create(c).Error, "create coverage")
}

// UpdateCoverage saves what an organizer may change of a coverage item, and its page
// check's fields when recheck (a new address). The check's fields are otherwise left
// alone, so that an edit never overwrites the result of a check running meanwhile.
func (s *Store) UpdateCoverage(ctx context.Context, c *model.Coverage, recheck bool) error {
	cols := []string{"url", "platform", "title", "published_at", "reach", "status", "updated_at"}
	if recheck {
		cols = append(cols, "check_status", "check_claimed_until", "checked_at", "page_title", "mentions_event",
			"links_event", "check_error")
	}
	return wrap(s.w(ctx).Model(c).Select(cols).Updates(c).Error, "update coverage")
}

// FindCoverage returns a coverage item by id.
func (s *Store) FindCoverage(ctx context.Context, id int64) (*model.Coverage, error) {
	var c model.Coverage
	return &c, wrap(s.r(ctx).First(&c, id).Error, "find coverage")
}

// CoverageRow is a coverage item with the name of the person it belongs to.
type CoverageRow struct {
	model.Coverage
	FirstName string
	LastName  string
	Email     string
	Outlet    string
}

// Name is the blogger's full name.
func (r *CoverageRow) Name() string { return strings.TrimSpace(r.FirstName + " " + r.LastName) }

// CoverageFilter narrows ListCoverage.
type CoverageFilter struct {
	EventID   int64
	ContactID int64
	Status    model.CoverageStatus
	// Published leaves out rejected items.
	Published bool
}

// ListCoverage returns coverage items with their bloggers, the latest publication first.
func (s *Store) ListCoverage(ctx context.Context, f CoverageFilter) ([]CoverageRow, error) {
	q := s.r(ctx).Table("coverages v").Joins("JOIN contacts c ON c.id = v.contact_id")
	if f.EventID > 0 {
		q = q.Where("v.event_id = ?", f.EventID)
	}
	if f.ContactID > 0 {
		q = q.Where("v.contact_id = ?", f.ContactID)
	}
	if f.Status != "" {
		q = q.Where("v.status = ?", f.Status)
	}
	if f.Published {
		q = q.Where("v.status <> ?", model.CoverageRejected)
	}
	var rows []CoverageRow
	err := q.Select("v.*, c.first_name, c.last_name, c.email, c.outlet").
		Order("COALESCE(v.published_at, v.created_at) DESC, v.id DESC").Scan(&rows).Error
	return rows, wrap(err, "list coverage")
}

// CoverageURLsOf returns which of the URLs an event already has.
func (s *Store) CoverageURLsOf(ctx context.Context, eventID int64, urls []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(urls) == 0 {
		return out, nil
	}
	var got []string
	err := s.r(ctx).Model(&model.Coverage{}).Where("event_id = ? AND url IN ?", eventID, urls).Pluck("url", &got).Error
	for _, u := range got {
		out[u] = true
	}
	return out, wrap(err, "coverage urls")
}

// DueCoverageChecks returns the ids of items whose page has not been checked yet, or
// whose check was claimed by a worker that stopped before finishing (claim expired).
func (s *Store) DueCoverageChecks(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.r(ctx).Model(&model.Coverage{}).
		Where("check_status = ? OR (check_status = ? AND check_claimed_until < ?)", model.CheckPending, model.CheckChecking, now).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, wrap(err, "due coverage checks")
}

// ClaimCoverageCheck marks one item as being checked until until. It is one
// conditional update, so that of several instances polling at once only one gets
// the item; force claims an item whatever its state (an explicit re-check).
func (s *Store) ClaimCoverageCheck(ctx context.Context, id int64, now, until time.Time, force bool) (bool, error) {
	q := s.w(ctx).Model(&model.Coverage{}).Where("id = ?", id)
	if !force {
		q = q.Where("check_status = ? OR (check_status = ? AND check_claimed_until < ?)", model.CheckPending, model.CheckChecking, now)
	}
	res := q.Updates(map[string]any{"check_status": model.CheckChecking, "check_claimed_until": until})
	return res.RowsAffected == 1, wrap(res.Error, "claim coverage check")
}

// CoverageCheckResult is what the page check found.
type CoverageCheckResult struct {
	Status        string
	PageTitle     string
	MentionsEvent bool
	LinksEvent    bool
	Error         string
}

// SaveCoverageCheck records the result of a claimed check. It changes nothing when the
// item was edited meanwhile (its URL changed, so its check started again).
func (s *Store) SaveCoverageCheck(ctx context.Context, id int64, url string, at time.Time, r CoverageCheckResult) error {
	err := s.w(ctx).Model(&model.Coverage{}).Where("id = ? AND url = ? AND check_status = ?", id, url, model.CheckChecking).
		Updates(map[string]any{"check_status": r.Status, "check_claimed_until": nil, "checked_at": at,
			"page_title": r.PageTitle, "mentions_event": r.MentionsEvent, "links_event": r.LinksEvent,
			"check_error": r.Error}).Error
	return wrap(err, "save coverage check")
}
