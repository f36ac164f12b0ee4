package roster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// The audit log is a hash chain. Roster's sealer takes committed events in
// log order, gives each the next position in the chain, and its hash:
// SHA-256 over the canonical encoding of the event, its position and the
// hash before it. Writers never wait for it (they take no lock of the
// chain); an edited, deleted, reordered or inserted event breaks the chain
// at that point, which verification names.

// SealedEvent is what a seal covers, in its canonical encoding: the fields
// in this order, times in RFC 3339 UTC, JSON objects with sorted keys.
type SealedEvent struct {
	Pos          int64           `json:"seq"`
	PrevHash     string          `json:"prev_hash"`
	ID           string          `json:"id"`
	At           time.Time       `json:"at"`
	ActorUserID  *string         `json:"actor_user_id"`
	ActorTokenID *string         `json:"actor_token_id"`
	ActorReason  *string         `json:"actor_reason"`
	Via          Via             `json:"via"`
	OnBehalfOf   *string         `json:"on_behalf_of"`
	Action       string          `json:"action"`
	TargetType   string          `json:"target_type"`
	TargetID     string          `json:"target_id"`
	OrgID        *string         `json:"org_id"`
	WorkspaceID  *string         `json:"workspace_id"`
	Before       json.RawMessage `json:"before"`
	After        json.RawMessage `json:"after"`
	RequestID    string          `json:"request_id"`
	IP           string          `json:"ip"`
	UserID       *string         `json:"user_id"`
	Notify       []string        `json:"notify"`
}

// ExportedEvent is one line of an audit export: the sealed event and its
// hash, enough to verify a copy without Roster.
type ExportedEvent struct {
	SealedEvent
	Hash string `json:"hash"`
}

// WriteExport writes events as an audit export: one ExportedEvent a line.
// It stops at the first error, of the events or of w: the export is then
// cut, and its last line does not verify as the end of the chain.
func WriteExport(w io.Writer, events iter.Seq2[AuditEvent, error]) error {
	buf := bufio.NewWriterSize(w, 64*1024)
	enc := json.NewEncoder(buf)
	for e, err := range events {
		if err != nil {
			return err
		}
		if err := enc.Encode(ExportedEvent{SealedEvent: e.Sealed(), Hash: e.Hash}); err != nil {
			return err
		}
	}
	return buf.Flush()
}

// Sealed returns the part of e a seal covers.
func (e AuditEvent) Sealed() SealedEvent {
	return SealedEvent{Pos: e.Pos, PrevHash: e.PrevHash, ID: e.ID, At: e.At, ActorUserID: e.ActorUserID, ActorTokenID: e.ActorTokenID,
		ActorReason: e.ActorReason, Via: e.Via, OnBehalfOf: e.OnBehalfOf, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID,
		OrgID: e.OrgID, WorkspaceID: e.WorkspaceID, Before: e.Before, After: e.After, RequestID: e.RequestID, IP: e.IP,
		UserID: e.UserID, Notify: e.Notify}
}

// Hash returns the seal of s: the hex SHA-256 of its canonical encoding.
func (s SealedEvent) Hash() (string, error) {
	var err error
	c := s
	c.At = s.At.UTC()
	if c.Before, err = canonicalJSON(s.Before); err != nil {
		return "", fmt.Errorf("event %s before: %w", s.ID, err)
	}
	if c.After, err = canonicalJSON(s.After); err != nil {
		return "", fmt.Errorf("event %s after: %w", s.ID, err)
	}
	if c.Notify == nil {
		c.Notify = []string{}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalJSON re-encodes a JSON value with sorted object keys, no
// insignificant space and numbers as written: the same bytes whichever
// database stored it (PostgreSQL's jsonb reorders keys).
func canonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("null"), nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// ChainHead is where the sealer has reached: the last event it sealed,
// its position and hash, and its place in the log.
type ChainHead struct {
	Cursor EventCursor
	Pos    int64
	Hash   string
}

// EventSeal is one event's place and hash in the chain.
type EventSeal struct {
	EventID  string
	Pos      int64
	PrevHash string
	Hash     string
}

// ChainStore reads the chain.
type ChainStore interface {
	// ChainHeadNow returns where the sealer has reached.
	ChainHeadNow(ctx context.Context) (ChainHead, error)
	// ListChain returns up to limit sealed events matching f after
	// position afterPos, in chain order.
	ListChain(ctx context.Context, f AuditFilter, afterPos int64, limit int) ([]AuditEvent, error)
	// FirstUnsealed returns the oldest event at or before cur in log order
	// that has no seal (ErrNotFound when there is none): one the sealer has
	// passed can only have been put there behind its back.
	FirstUnsealed(ctx context.Context, cur EventCursor) (AuditEvent, error)
}

// ChainWriter seals events; only the sealer, in its own transactions.
type ChainWriter interface {
	// LockChain takes the sealer's place for this transaction; ok is false
	// when another replica holds it.
	LockChain(ctx context.Context) (head ChainHead, ok bool, err error)
	// SealEvents records seals and moves the head to head.
	SealEvents(ctx context.Context, seals []EventSeal, head ChainHead) error
}

// Verification is the outcome of walking the chain.
type Verification struct {
	OK           bool
	Events       int64  // events verified
	Head         string // the hash of the last event verified
	FirstBadID   string // set when not OK
	FirstBadLine int    // in a file, the line of the first bad event
	Problem      string // what is wrong with it
	Gaps         int    // in a file, places where positions skip (a filtered export)
}

// Verifier checks events in chain order, one at a time.
type Verifier struct {
	v        Verification
	broken   bool
	last     *SealedEvent
	lastHash string
	// Complete requires consecutive positions from the first event on (an
	// export without filters, or the database itself).
	Complete bool
}

// Add checks the next event and its stored hash; it returns false once
// the chain is broken (the Verification says where).
func (vr *Verifier) Add(s SealedEvent, hash string) (bool, error) {
	if vr.broken {
		return false, nil
	}
	bad := func(problem string) (bool, error) {
		vr.Fail(s.ID, problem)
		return false, nil
	}
	want, err := s.Hash()
	if err != nil {
		return bad("cannot be encoded: " + err.Error())
	}
	switch {
	case hash != want:
		return bad("its hash does not match its content")
	case vr.last == nil && vr.Complete && (s.Pos != 1 || s.PrevHash != ""):
		return bad("the chain does not start with it")
	case vr.last != nil && s.Pos <= vr.last.Pos:
		return bad("it is out of order")
	case vr.last != nil && s.Pos == vr.last.Pos+1 && s.PrevHash != vr.lastHash:
		return bad("it does not follow the event before it")
	case vr.last != nil && s.Pos > vr.last.Pos+1:
		if vr.Complete {
			return bad("events before it are missing")
		}
		vr.v.Gaps++
	}
	vr.last, vr.lastHash = &s, hash
	vr.v.Events++
	vr.v.Head = hash
	return true, nil
}

// Fail records a problem the verifier's caller found with an event.
func (vr *Verifier) Fail(eventID, problem string) {
	if !vr.broken {
		vr.broken, vr.v.FirstBadID, vr.v.Problem = true, eventID, problem
	}
}

// Result returns the verification so far.
func (vr *Verifier) Result() Verification {
	vr.v.OK = !vr.broken
	return vr.v
}

// ErrNotAnExport is returned for a file that is not an audit export.
var ErrNotAnExport = errors.New("not an audit export")

// VerifyExport checks an exported audit file offline: every line's hash
// against its content, and each line against the one before it. A filtered
// export skips positions; complete requires that none be skipped.
func VerifyExport(r io.Reader, complete bool) (Verification, error) {
	vr := &Verifier{Complete: complete}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e ExportedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ID == "" || e.Hash == "" {
			if vr.v.Events == 0 && !vr.broken {
				return Verification{}, fmt.Errorf("line %d: %w", line, ErrNotAnExport)
			}
			vr.Fail(fmt.Sprintf("line %d", line), "it is not an exported event")
			vr.v.FirstBadLine = line
			return vr.Result(), nil
		}
		if ok, err := vr.Add(e.SealedEvent, e.Hash); err != nil {
			return Verification{}, err
		} else if !ok {
			vr.v.FirstBadLine = line
			return vr.Result(), nil
		}
	}
	return vr.Result(), sc.Err()
}
