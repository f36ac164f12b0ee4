package service

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/roster-dev/roster"
)

// A bulk import (POST /v1/import) applies its records in order, a chunk of
// them per transaction. Each chunk locks the organisations it names, reads
// what its records refer to in a few queries, applies every record to that
// state in memory under the same rules as the API (each record on its own:
// one that breaks a rule is undone and reported), then writes what changed
// in a few statements per table, with an audit event for every change. A
// dry run does the same in one transaction and rolls it back.

// importChunk is how many records one transaction applies: large enough
// that a statement writes many rows, small enough that other writers wait
// for an import only briefly.
const importChunk = 2000

// importAttempts bounds how often a chunk is replanned after a concurrent
// writer took a slug, email or external id it was about to insert.
const importAttempts = 3

var errDryRun = errors.New("dry run: rolled back")

// Import applies a bulk import. Platform admins and service tokens.
func (s *Service) Import(ctx context.Context, records []roster.ImportRecord, dryRun bool) (roster.ImportResult, error) {
	if !operator(actor(ctx)) {
		return roster.ImportResult{}, errForbidden
	}
	var chunks [][]roster.ImportRecord
	for part := range slices.Chunk(records, importChunk) {
		chunks = append(chunks, part)
	}
	total := roster.ImportResult{Errors: []roster.ImportError{}}
	if dryRun {
		var tallies []importTally
		ctx, cancel := context.WithTimeout(ctx, time.Duration(len(chunks))*s.chunkTimeout)
		defer cancel()
		err := s.update(ctx, func(c *change) error {
			tallies = tallies[:0]
			for _, part := range chunks {
				t, err := s.importChunk(c, part)
				if err != nil {
					return err
				}
				tallies = append(tallies, t)
			}
			return errDryRun
		})
		if !errors.Is(err, errDryRun) {
			return total, err
		}
		for _, t := range tallies {
			t.addTo(&total)
		}
		return total, nil
	}
	s.importing.Add(1)
	defer s.importing.Add(-1)
	refreshAt := statisticsAfter
	for i, part := range chunks {
		refresh := i*importChunk >= refreshAt
		if refresh {
			refreshAt *= 2
		}
		t, err := s.importWithRetry(ctx, part, refresh)
		if err != nil {
			return total, err
		}
		t.addTo(&total)
	}
	return total, nil
}

// statisticsAfter is how many records an import applies before the
// database's statistics are refreshed, and again each time it has applied
// twice as many: a large import grows the tables it reads many times over.
const statisticsAfter = 10_000

// importWithRetry applies one chunk in its own transaction. A concurrent
// writer may insert a row the chunk meant to (an organisation slug, say):
// the chunk is then read and applied again, and finds the winner's row.
func (s *Service) importWithRetry(ctx context.Context, part []roster.ImportRecord, refreshStatistics bool) (importTally, error) {
	for attempt := 1; ; attempt++ {
		var t importTally
		ctx, cancel := context.WithTimeout(ctx, s.chunkTimeout)
		err := s.update(ctx, func(c *change) error {
			if refreshStatistics {
				if err := c.tx.RefreshStatistics(c.ctx); err != nil {
					return err
				}
			}
			var err error
			t, err = s.importChunk(c, part)
			return err
		})
		cancel()
		if err == nil || !errors.Is(err, roster.ErrUniqueViolation) || attempt == importAttempts {
			return t, err
		}
	}
}

// importTally counts one chunk's outcomes.
type importTally struct {
	created, updated, unchanged int
	errors                      []roster.ImportError
}

func (t importTally) addTo(r *roster.ImportResult) {
	r.Created += t.created
	r.Updated += t.updated
	r.Unchanged += t.unchanged
	r.Failed += len(t.errors)
	r.Errors = append(r.Errors, t.errors...)
}

// outcome is what applying one record did.
type outcome int

const (
	unchanged outcome = iota
	created
	updated
)

func (s *Service) importChunk(c *change, records []roster.ImportRecord) (importTally, error) {
	var t importTally
	fail := func(r roster.ImportRecord, err error) {
		var e *roster.Error
		if !errors.As(err, &e) {
			e = roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "%v", err)
		}
		t.errors = append(t.errors, roster.ImportError{Line: r.Line, Code: e.Code, Detail: e.Message})
	}
	valid := make([]roster.ImportRecord, 0, len(records))
	for _, r := range records {
		if err := checkImportRecord(c.now, &r); err != nil {
			fail(r, err)
			continue
		}
		valid = append(valid, r)
	}
	m, err := loadImportModel(c, valid)
	if err != nil {
		return t, err
	}
	for _, r := range valid {
		mark := m.mark()
		o, err := m.apply(r)
		switch {
		case brokenRule(err):
			m.restore(mark)
			fail(r, err)
		case err != nil:
			return t, err
		default:
			m.commit()
		}
		switch {
		case err != nil:
		case o == created:
			t.created++
		case o == updated:
			t.updated++
		default:
			t.unchanged++
		}
	}
	// Lines that could not be read were reported first: report by line.
	slices.SortStableFunc(t.errors, func(a, b roster.ImportError) int { return a.Line - b.Line })
	return t, m.write()
}

// checkImportRecord checks what a record says on its own, before anything
// is looked up: its type, required fields and their forms.
func checkImportRecord(now time.Time, r *roster.ImportRecord) error {
	if r.Err != nil {
		return r.Err
	}
	kind, err := roster.ParseImportKind(r.Type)
	if err != nil {
		return err
	}
	switch kind {
	case roster.ImportUser:
		return checkImportUser(r)
	case roster.ImportOrg:
		if err := roster.CheckSlug(r.Slug); err != nil {
			return err
		}
		if err := checkName(r.Name); err != nil {
			return err
		}
		return required("owner", r.Owner)
	case roster.ImportWorkspace:
		if err := required("org", r.Org); err != nil {
			return err
		}
		if err := roster.CheckSlug(r.Slug); err != nil {
			return err
		}
		if err := checkName(r.Name); err != nil {
			return err
		}
		return required("owner", r.Owner)
	case roster.ImportOrgMembership:
		if _, err := roster.ParseOrgRole(r.Role); err != nil {
			return err
		}
		if err := required("org", r.Org); err != nil {
			return err
		}
		return required("user", r.User)
	default:
		if _, err := roster.ParseWorkspaceRole(r.Role); err != nil {
			return err
		}
		for _, f := range [][2]string{{"org", r.Org}, {"workspace", r.Workspace}, {"user", r.User}} {
			if err := required(f[0], f[1]); err != nil {
				return err
			}
		}
		if r.ExpiresAt != nil {
			t, err := checkExpiry(now, *r.ExpiresAt)
			if err != nil {
				return err
			}
			r.ExpiresAt = &t
		}
		return nil
	}
}

func checkImportUser(r *roster.ImportRecord) error {
	if r.ExternalID == nil && r.Email == nil {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "a user record needs an external_id or an email").With("field", "external_id")
	}
	if r.ExternalID != nil {
		if err := roster.CheckExternalID(*r.ExternalID); err != nil {
			return err
		}
	}
	if r.Email != nil {
		email, err := roster.NormalizeEmail(*r.Email)
		if err != nil {
			return err
		}
		r.Email = &email
	}
	if r.DisplayName != nil {
		return roster.CheckDisplayName(*r.DisplayName)
	}
	return nil
}

func required(field, value string) error {
	if value == "" {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "%s is required", field).With("field", field)
	}
	return nil
}

// checkExpiry is a membership's expiry as stored: in the future, and
// representable on both databases.
func checkExpiry(now, at time.Time) (time.Time, error) {
	t := at.UTC().Truncate(time.Microsecond)
	if !t.After(now) {
		return t, errExpiryPast
	}
	if !roster.TimeInRange(t) {
		return t, roster.Errorf(roster.KindInvalid, roster.CodeInvalidExpiry, "expires_at must be before the year 10000")
	}
	return t, nil
}

// brokenRule reports whether err is the record's fault: a rule it breaks
// or something it names that is not there. A database that fails, or
// anything else, fails the chunk instead: the record was not judged.
func brokenRule(err error) bool {
	var e *roster.Error
	if !errors.As(err, &e) || errors.Is(err, roster.ErrUniqueViolation) || errors.Is(err, roster.ErrNotFound) {
		return false
	}
	return e.Kind != roster.KindInternal && e.Kind != roster.KindUnavailable
}

func errImportRef(kind, code, ref string) error {
	return roster.Errorf(roster.KindNotFound, code, "no %s %q here or earlier in the import", kind, ref).With(kind, ref)
}

var errFromSupport = roster.Errorf(roster.KindConflict, roster.CodeAlreadyMember,
	"the user is in this workspace through a staff support session; end it first")
