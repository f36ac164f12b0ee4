package service

import (
	"maps"
	"slices"

	"github.com/roster-dev/roster"
)

// write stores what the chunk's records changed: new rows in bulk, changed
// rows one by one (an import mostly adds), seats and their counters, the
// tasks that end expiring memberships, and each organisation's change of
// seat counts as one audit event. Ended memberships are written first: the
// new membership that replaces one would otherwise clash with it.
func (m *importModel) write() error {
	c := m.c
	var rows roster.NewRows
	var seats []roster.SeatChange
	var tasks []roster.NewTask
	for _, iu := range m.users {
		switch {
		case iu.orig == nil:
			rows.Users = append(rows.Users, iu.u)
		case !sameUser(iu.u, *iu.orig):
			// A clash here is a concurrent writer's new user: the chunk
			// is read and applied again, and the record then sees it.
			if err := c.tx.UpdateUser(c.ctx, iu.u); err != nil {
				return err
			}
		}
	}
	for _, io := range m.orgs {
		switch {
		case io.orig == nil:
			rows.Orgs = append(rows.Orgs, io.org)
		case io.org.Name != io.orig.Name:
			if err := c.tx.UpdateOrg(c.ctx, io.org); err != nil {
				return err
			}
		}
		for _, iw := range io.workspaces {
			switch {
			case iw.orig == nil:
				rows.Workspaces = append(rows.Workspaces, iw.w)
			case iw.w.Name != iw.orig.Name:
				if err := c.tx.UpdateWorkspace(c.ctx, iw.w); err != nil {
					return err
				}
			}
		}
		for _, userID := range slices.Sorted(maps.Keys(io.people)) {
			p := io.people[userID]
			if err := m.writePerson(p, &rows, &tasks); err != nil {
				return err
			}
			if !sameSeat(p.current, p.seat) {
				seats = append(seats, roster.SeatChange{Old: p.seat, New: p.current})
			}
		}
	}
	if err := c.tx.InsertRows(c.ctx, rows); err != nil {
		return err
	}
	if err := c.tx.ReplaceSeats(c.ctx, seats); err != nil {
		return err
	}
	if err := c.tx.ScheduleTasks(c.ctx, tasks); err != nil {
		return err
	}
	for _, io := range m.orgs {
		p := io.org.Plan
		if io.countsBefore.Used(p) == io.counts.Used(p) && maps.Equal(breakdown(io.countsBefore), breakdown(io.counts)) {
			continue
		}
		if err := c.auditIn(roster.ActionSeatsChanged, roster.TargetSeats, io.org.ID, &io.org.ID, nil,
			seatAudit(p, io.countsBefore), seatAudit(p, io.counts)); err != nil {
			return err
		}
	}
	return nil
}

// writePerson updates and ends a user's stored memberships in one
// organisation and adds their new ones to rows.
func (m *importModel) writePerson(p *orgPerson, rows *roster.NewRows, tasks *[]roster.NewTask) error {
	c := m.c
	for _, ended := range p.ended {
		if err := c.tx.UpdateWorkspaceMembership(c.ctx, ended); err != nil {
			return err
		}
	}
	switch {
	case p.member == nil:
	case p.origMember == nil:
		rows.OrgMemberships = append(rows.OrgMemberships, *p.member)
	case p.member.Role != p.origMember.Role:
		if err := c.tx.UpdateOrgMembership(c.ctx, *p.member); err != nil {
			return err
		}
	}
	for _, wsID := range slices.Sorted(maps.Keys(p.ws)) {
		wm := p.ws[wsID]
		var before *roster.WorkspaceMembership
		if orig, ok := p.origWS[wm.ID]; ok {
			if sameMembership(orig, *wm) {
				continue
			}
			before = &orig
			if err := c.tx.UpdateWorkspaceMembership(c.ctx, *wm); err != nil {
				return err
			}
		} else {
			rows.Memberships = append(rows.Memberships, *wm)
		}
		t, ok, err := membershipEndTask(before, wm)
		if err != nil {
			return err
		}
		if ok {
			*tasks = append(*tasks, t)
		}
	}
	return nil
}

func sameMembership(a, b roster.WorkspaceMembership) bool {
	return a.Role == b.Role && roster.SameTime(a.ExpiresAt, b.ExpiresAt) && roster.SameTime(a.DeletedAt, b.DeletedAt)
}

// sameUser compares what an import may change of a user.
func sameUser(a, b roster.User) bool {
	return samePtr(a.ExternalID, b.ExternalID) && samePtr(a.Email, b.Email) && a.DisplayName == b.DisplayName
}

func sameSeat(a, b roster.Seat) bool {
	return a.Role == b.Role && roster.SameTime(a.Until, b.Until) && roster.SameTime(a.Recheck, b.Recheck)
}
