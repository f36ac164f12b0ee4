package main

import (
	"crypto/rand"
	"slices"
	"sync"
	"time"
)

// Note is the app's own data. Roster knows nothing of notes: it only
// answers whether a user may read, write or delete in the workspace that
// holds them.
type Note struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	AuthorID    string    `json:"author_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// Activity is one Roster event the app heard about through its webhook.
type Activity struct {
	EventID     string    `json:"event_id"`
	Type        string    `json:"type"`
	At          time.Time `json:"at"`
	WorkspaceID string    `json:"workspace_id"`
	ActorID     string    `json:"actor_id,omitempty"`
	UserID      string    `json:"user_id,omitempty"` // whom the change is about
}

// maxActivity bounds the activity list: it is a recent-changes view, not
// a log (Roster keeps the log).
const maxActivity = 200

// store keeps everything in memory: the example has nothing worth keeping
// across restarts, and a database would hide the parts that are about
// Roster. Membership, roles and seats are never stored here; Roster owns
// them.
type store struct {
	mu       sync.Mutex
	notes    map[string][]Note // by workspace id, oldest first
	activity []Activity        // oldest first
}

func newStore() *store { return &store{notes: map[string][]Note{}} }

// AddNote stores a new note in a workspace.
func (s *store) AddNote(n Note) Note {
	n.ID = "note_" + rand.Text()[:16]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes[n.WorkspaceID] = append(s.notes[n.WorkspaceID], n)
	return n
}

// Notes lists a workspace's notes, oldest first.
func (s *store) Notes(workspaceID string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notes[workspaceID])
}

// DeleteNote deletes a note of a workspace, and reports whether there was
// one. The workspace is part of the key: a note id from another workspace
// is not found, so that a user allowed in one workspace cannot reach
// another's notes by their ids.
func (s *store) DeleteNote(workspaceID, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	notes := s.notes[workspaceID]
	i := slices.IndexFunc(notes, func(n Note) bool { return n.ID == id })
	if i < 0 {
		return false
	}
	s.notes[workspaceID] = slices.Delete(notes, i, i+1)
	return true
}

// DropWorkspace forgets a deleted workspace's notes.
func (s *store) DropWorkspace(workspaceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.notes, workspaceID)
}

// Record adds an activity entry, unless one with the same event id is
// already there: Roster delivers at least once, and a retry carries the
// same id.
func (s *store) Record(a Activity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(s.activity, func(b Activity) bool { return b.EventID == a.EventID }) {
		return
	}
	s.activity = append(s.activity, a)
	if len(s.activity) > maxActivity {
		s.activity = slices.Delete(s.activity, 0, len(s.activity)-maxActivity)
	}
}

// Activity lists the entries about the given workspaces, newest first.
func (s *store) Activity(workspaceIDs map[string]bool) []Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Activity{}
	for i := len(s.activity) - 1; i >= 0; i-- {
		if workspaceIDs[s.activity[i].WorkspaceID] {
			out = append(out, s.activity[i])
		}
	}
	return out
}
