package roster

import (
	"context"
	"time"
)

// ImportKind is the type of one record of a bulk import.
type ImportKind string

const (
	ImportUser          ImportKind = "user"
	ImportOrg           ImportKind = "org"
	ImportWorkspace     ImportKind = "workspace"
	ImportOrgMembership ImportKind = "org_membership"
	ImportMembership    ImportKind = "membership"
)

// ImportKinds lists every record type, in the order an import file usually
// holds them (each may refer to those before it).
var ImportKinds = []ImportKind{ImportUser, ImportOrg, ImportWorkspace, ImportOrgMembership, ImportMembership}

// ParseImportKind validates a record type from input.
func ParseImportKind(s string) (ImportKind, error) {
	return parseEnum(s, ImportKinds, CodeUnknownRecordType, "type")
}

// ImportRecord is one line of a bulk import. Organisations and workspaces
// are named by slug; a user a record refers to (Owner, User) by the host
// application's id or, failing that, by email.
type ImportRecord struct {
	Line int    // 1-based line number in the body
	Err  error  // the line could not be read; reported as is
	Type string // an ImportKind, checked by the service
	// user
	ExternalID, Email, DisplayName *string
	// org, workspace
	Slug, Name, Owner string
	// workspace, org_membership, membership
	Org, Workspace, User, Role string
	ExpiresAt                  *time.Time
}

// ImportResult is what an import did (or, dry, would do), by record.
type ImportResult struct {
	Created, Updated, Unchanged, Failed int
	Errors                              []ImportError
}

// ImportError is why one line was not applied.
type ImportError struct {
	Line   int
	Code   string
	Detail string
}

// ImportService loads organisations, their workspaces, users and
// memberships in bulk.
type ImportService interface {
	// Import applies records in order, each on its own: a record that
	// breaks a rule is reported and the others go on. Dry, it writes nothing.
	Import(ctx context.Context, records []ImportRecord, dryRun bool) (ImportResult, error)
}

// ImportState is the stored state an import's records act on: the
// workspaces of some organisations, and the memberships and seats of some
// users there.
type ImportState struct {
	Workspaces     []Workspace
	OrgMemberships []OrgMembership
	Memberships    []WorkspaceMembership // not deleted; expired ones too
	Seats          []Seat
}

// ImportStore reads what an import refers to, in a few queries.
type ImportStore interface {
	// FindUsers returns the users, not deleted, with any of the external
	// ids or email keys; one found by both may come twice.
	FindUsers(ctx context.Context, externalIDs, emailKeys []string) ([]User, error)
	// FindOrgs returns the organisations, not deleted, with any of the
	// slugs, in id order. In a write transaction it also takes their locks,
	// in that order, as LockOrg does.
	FindOrgs(ctx context.Context, slugs []string) ([]Org, error)
	// CountSeatsOf is CountSeats for many organisations at once.
	CountSeatsOf(ctx context.Context, orgIDs []string, now time.Time) (map[string]SeatCounts, error)
	// ImportState reads the workspaces (not deleted) of orgIDs, and the
	// memberships and seats there of userIDs.
	ImportState(ctx context.Context, orgIDs, userIDs []string) (ImportState, error)
}

// NewRows are rows an import inserts, in one statement per table and
// thousand rows.
type NewRows struct {
	Users          []User
	Orgs           []Org
	Workspaces     []Workspace
	OrgMemberships []OrgMembership
	Memberships    []WorkspaceMembership
}

// SeatChange replaces a seat (Old, as read in the transaction) with New.
type SeatChange struct{ Old, New Seat }

// ImportWriter writes an import's rows.
type ImportWriter interface {
	// RefreshStatistics brings the database's statistics of the tables an
	// import reads up to date: tables it fills from empty keep looking tiny
	// to PostgreSQL's planner, which then scans them whole for every
	// look-up, until autovacuum gets round to them.
	RefreshStatistics(ctx context.Context) error
	// InsertRows inserts every row; ErrUniqueViolation when one clashes
	// with a row that exists (a concurrent writer's).
	InsertRows(ctx context.Context, rows NewRows) error
	// ReplaceSeats is ReplaceSeat for many seats, the counters moved once.
	ReplaceSeats(ctx context.Context, changes []SeatChange) error
}
