package service

import (
	"maps"
	"slices"

	"github.com/roster-dev/roster"
)

// importModel is the state one chunk of an import acts on: the users its
// records name, the organisations they name (locked), their workspaces, and
// those users' memberships and seats there. Records change it in memory;
// write stores the difference. Users it holds are authoritative: their
// memberships in its organisations are all here.
type importModel struct {
	c       *change
	users   []*importUser // in the order loaded or created
	byID    map[string]*importUser
	byExt   map[string]*importUser
	byEmail map[string]*importUser // by email key
	orgs    []*importOrg
	bySlug  map[string]*importOrg
	undo    []func() // restores what the current record changed, newest last
}

type importUser struct {
	u    roster.User
	orig *roster.User // as stored; nil: created by this import
}

type importOrg struct {
	org          roster.Org
	orig         *roster.Org // nil: created by this import
	workspaces   []*importWorkspace
	bySlug       map[string]*importWorkspace
	byID         map[string]*importWorkspace
	people       map[string]*orgPerson // by user id
	counts       roster.SeatCounts     // seats held now
	countsBefore roster.SeatCounts
}

type importWorkspace struct {
	w    roster.Workspace
	orig *roster.Workspace
}

// orgPerson is one user's memberships and seat in one organisation.
type orgPerson struct {
	userID     string
	member     *roster.OrgMembership                  // live; nil: none
	origMember *roster.OrgMembership                  // as stored
	ws         map[string]*roster.WorkspaceMembership // by workspace id; not deleted
	origWS     map[string]roster.WorkspaceMembership  // as stored, by membership id
	ended      []roster.WorkspaceMembership           // stored memberships this import ended
	seat       roster.Seat                            // as stored
	current    roster.Seat                            // as the import leaves it
}

// loadImportModel locks the organisations the records name and reads what
// they refer to. Users are read after the locks: a user's status counts
// towards their seats, and a change of it takes the same locks.
func loadImportModel(c *change, records []roster.ImportRecord) (*importModel, error) {
	exts, emails, slugs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	ref := func(s string) { exts[s], emails[roster.EmailKey(s)] = true, true }
	for _, r := range records {
		switch roster.ImportKind(r.Type) {
		case roster.ImportUser:
			if r.ExternalID != nil {
				exts[*r.ExternalID] = true
			}
			if r.Email != nil {
				emails[roster.EmailKey(*r.Email)] = true
			}
		case roster.ImportOrg:
			slugs[r.Slug] = true
			ref(r.Owner)
		case roster.ImportWorkspace:
			slugs[r.Org] = true
			ref(r.Owner)
		default:
			slugs[r.Org] = true
			ref(r.User)
		}
	}
	locked, err := c.tx.FindOrgs(c.ctx, slices.Sorted(maps.Keys(slugs))) // and locks them
	if err != nil {
		return nil, err
	}
	m := &importModel{c: c, byID: map[string]*importUser{}, byExt: map[string]*importUser{}, byEmail: map[string]*importUser{}, bySlug: map[string]*importOrg{}}
	var orgIDs []string
	for _, org := range locked {
		c.holds(org.ID)
		m.addOrg(org, false)
		orgIDs = append(orgIDs, org.ID)
	}
	counts, err := c.tx.CountSeatsOf(c.ctx, orgIDs, c.now)
	if err != nil {
		return nil, err
	}
	for _, io := range m.orgs {
		c := counts[io.org.ID]
		if c == nil {
			c = roster.SeatCounts{}
		}
		io.counts, io.countsBefore = c, maps.Clone(c)
	}
	users, err := c.tx.FindUsers(c.ctx, slices.Sorted(maps.Keys(exts)), slices.Sorted(maps.Keys(emails)))
	if err != nil {
		return nil, err
	}
	var userIDs []string
	for _, u := range users {
		if m.byID[u.ID] == nil {
			m.addUser(u, false)
			userIDs = append(userIDs, u.ID)
		}
	}
	st, err := c.tx.ImportState(c.ctx, orgIDs, userIDs)
	if err != nil {
		return nil, err
	}
	byOrgID := map[string]*importOrg{}
	for _, io := range m.orgs {
		byOrgID[io.org.ID] = io
	}
	for _, w := range st.Workspaces {
		byOrgID[w.OrgID].addWorkspace(w, false)
	}
	for _, om := range st.OrgMemberships {
		p, orig := byOrgID[om.OrgID].person(om.UserID), om
		p.member, p.origMember = &om, &orig
	}
	for _, wm := range st.Memberships {
		p := byOrgID[wm.OrgID].person(wm.UserID)
		p.ws[wm.WorkspaceID], p.origWS[wm.ID] = &wm, wm
	}
	for _, s := range st.Seats {
		p := byOrgID[s.OrgID].person(s.UserID)
		p.seat, p.current = s, s
	}
	return m, nil
}

func (m *importModel) addUser(u roster.User, created bool) *importUser {
	iu := &importUser{u: u}
	if created {
		m.undo = append(m.undo, func() { m.forgetUser(iu) })
	}
	if !created {
		orig := u
		iu.orig = &orig
	}
	m.users, m.byID[u.ID] = append(m.users, iu), iu
	if u.ExternalID != nil {
		m.byExt[*u.ExternalID] = iu
	}
	if u.Email != nil {
		m.byEmail[roster.EmailKey(*u.Email)] = iu
	}
	return iu
}

func (m *importModel) addOrg(o roster.Org, created bool) *importOrg {
	io := &importOrg{org: o, bySlug: map[string]*importWorkspace{}, byID: map[string]*importWorkspace{}, people: map[string]*orgPerson{}}
	if !created {
		orig := o
		io.orig = &orig
	} else {
		io.counts, io.countsBefore = roster.SeatCounts{}, roster.SeatCounts{}
		m.undo = append(m.undo, func() {
			m.orgs = m.orgs[:len(m.orgs)-1]
			delete(m.bySlug, o.Slug)
		})
	}
	m.orgs, m.bySlug[o.Slug] = append(m.orgs, io), io
	return io
}

func (io *importOrg) addWorkspace(w roster.Workspace, created bool) *importWorkspace {
	iw := &importWorkspace{w: w}
	if !created {
		orig := w
		iw.orig = &orig
	}
	io.workspaces, io.bySlug[w.Slug], io.byID[w.ID] = append(io.workspaces, iw), iw, iw
	return iw
}

// person returns a user's state in the organisation, empty if they have none.
func (io *importOrg) person(userID string) *orgPerson {
	p := io.people[userID]
	if p == nil {
		p = &orgPerson{userID: userID, ws: map[string]*roster.WorkspaceMembership{}, origWS: map[string]roster.WorkspaceMembership{}}
		p.seat = roster.Seat{OrgID: io.org.ID, UserID: userID}
		p.current = p.seat
		io.people[userID] = p
	}
	return p
}

// mark and restore undo a record that broke a rule: everything it changed
// in the model, and the audit events it wrote, are taken back.
type importMark struct{ undo, audits int }

// forgetUser takes back a user this import created.
func (m *importModel) forgetUser(iu *importUser) {
	m.users = m.users[:len(m.users)-1]
	delete(m.byID, iu.u.ID)
	if iu.u.ExternalID != nil {
		delete(m.byExt, *iu.u.ExternalID)
	}
	if iu.u.Email != nil {
		delete(m.byEmail, roster.EmailKey(*iu.u.Email))
	}
}

func (m *importModel) mark() importMark {
	return importMark{undo: len(m.undo), audits: len(m.c.audits)}
}

func (m *importModel) restore(k importMark) {
	for i := len(m.undo) - 1; i >= k.undo; i-- {
		m.undo[i]()
	}
	m.undo, m.c.audits = m.undo[:k.undo], m.c.audits[:k.audits]
}

// commit forgets the undo log once a record has been applied.
func (m *importModel) commit() { m.undo = m.undo[:0] }

func (m *importModel) saveUser(iu *importUser) {
	was := iu.u
	m.undo = append(m.undo, func() { iu.u = was })
}

func (m *importModel) saveOrg(io *importOrg) {
	was, counts := io.org, maps.Clone(io.counts)
	m.undo = append(m.undo, func() { io.org, io.counts = was, counts })
}

func (m *importModel) saveWorkspace(iw *importWorkspace) {
	was := iw.w
	m.undo = append(m.undo, func() { iw.w = was })
}

func (m *importModel) savePerson(p *orgPerson) {
	var member *roster.OrgMembership
	if p.member != nil {
		v := *p.member
		member = &v
	}
	ws := make(map[string]roster.WorkspaceMembership, len(p.ws))
	for id, wm := range p.ws {
		ws[id] = *wm
	}
	ended, current := len(p.ended), p.current
	m.undo = append(m.undo, func() {
		p.member = member
		p.ws = make(map[string]*roster.WorkspaceMembership, len(ws))
		for id, wm := range ws {
			p.ws[id] = &wm
		}
		p.ended, p.current = p.ended[:ended], current
	})
}
