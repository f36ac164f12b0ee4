package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/roster-dev/roster"
)

// pageSize is how many rows a console list shows at a time.
const pageSize = 50

// listPage reads the cursor of a list page from the query.
func listPage(q *request, idPrefix string) (roster.Page, error) {
	return roster.ParsePage(pageSize, q.r.URL.Query().Get("after"), idPrefix)
}

// homeData is the signed-in user's organisations and workspaces.
type homeData struct {
	Orgs        []homeOrg
	DefaultWsID string
	Prev, Next  string // page links
}

type homeOrg struct {
	Org        roster.Org
	Role       roster.OrgRole
	Workspaces []roster.WorkspaceView
}

func homePage(c *Console, q *request) error {
	me, err := c.svc.Me(q.ctx)
	if err != nil {
		return err
	}
	d := homeData{}
	if me.User.DefaultWorkspaceID != nil {
		d.DefaultWsID = *me.User.DefaultWorkspaceID
	}
	// The list comes whole; the console shows it a page at a time.
	n, _ := strconv.Atoi(q.r.URL.Query().Get("page"))
	n = max(n, 0)
	from, to := min(n*pageSize, len(me.Orgs)), min((n+1)*pageSize, len(me.Orgs))
	for _, mo := range me.Orgs[from:to] {
		org, err := c.svc.GetOrg(q.ctx, mo.OrgID)
		if err != nil {
			return err
		}
		d.Orgs = append(d.Orgs, homeOrg{Org: org, Role: mo.Role, Workspaces: mo.Workspaces})
	}
	if n > 0 {
		d.Prev = Base + "?page=" + strconv.Itoa(n-1)
	}
	if to < len(me.Orgs) {
		d.Next = Base + "?page=" + strconv.Itoa(n+1)
	}
	c.render(q, q.statusOr(http.StatusOK), "home", "home.title", d)
	return nil
}

// orgData is an organisation's page.
type orgData struct {
	Org        roster.Org
	Seats      *roster.Seats // nil for those who may not see them
	SeatRoles  []seatRole
	Taken      int // seats used and pending
	Members    []roster.OrgMembership
	Prev, Next string
	Workspaces []roster.WorkspaceView
	Roles      []roster.OrgRole
	Me         string
}

// seatRole is one bar of the seat breakdown chart.
type seatRole struct {
	Role  string
	Count int
}

func orgPage(c *Console, q *request) error {
	id := q.r.PathValue("org")
	org, err := c.svc.GetOrg(q.ctx, id)
	if err != nil {
		return err
	}
	d := orgData{Org: org, Roles: roster.OrgRoles, Me: q.user.ID}
	seats, err := c.svc.GetSeats(q.ctx, id)
	switch {
	case err == nil:
		d.Seats, d.Taken = &seats, seats.Used+seats.Pending
		for _, r := range roster.WorkspaceRoles {
			if n := seats.Breakdown[string(r)]; n > 0 {
				d.SeatRoles = append(d.SeatRoles, seatRole{Role: string(r), Count: n})
			}
		}
	case !refused(err):
		return err
	}
	p, err := listPage(q, roster.PrefixUser)
	if err != nil {
		return err
	}
	members, next, err := c.svc.ListOrgMembers(q.ctx, id, p)
	switch {
	case err == nil:
		d.Members = members
		if next != "" {
			d.Next = q.r.URL.Path + "?after=" + next
		}
	case !refused(err):
		return err
	}
	d.Workspaces, _, err = c.svc.ListWorkspaces(q.ctx, roster.WorkspaceFilter{OrgID: id}, roster.Page{Limit: pageSize})
	if err != nil && !refused(err) {
		return err
	}
	c.render(q, q.statusOr(http.StatusOK), "org", "org.title", d)
	return nil
}

// refused reports whether the service refused the caller a part of a page
// (which the page then leaves out), as opposed to failing.
func refused(err error) bool {
	var e *roster.Error
	return errors.As(err, &e) && (e.Kind == roster.KindForbidden || e.Kind == roster.KindNotFound)
}

func addOrgMember(c *Console, q *request) error {
	org := q.r.PathValue("org")
	_, _, err := c.svc.PutOrgMember(q.ctx, org, q.r.PostFormValue("user_id"), q.r.PostFormValue("role"))
	if err != nil {
		return c.retry(q, err, orgPage)
	}
	return done(q, Base+"orgs/"+org, "member_added")
}

func changeOrgMember(c *Console, q *request) error {
	org := q.r.PathValue("org")
	_, _, err := c.svc.PutOrgMember(q.ctx, org, q.r.PathValue("user"), q.r.PostFormValue("role"))
	if err != nil {
		return c.retry(q, err, orgPage)
	}
	return done(q, Base+"orgs/"+org, "role_changed")
}

// confirmData is a confirmation page for a destructive action.
type confirmData struct {
	QuestionID string
	Subject    string
	Action     string
	Cancel     string
}

func confirmRemoveOrgMember(c *Console, q *request) error {
	org, user := q.r.PathValue("org"), q.r.PathValue("user")
	if _, err := c.svc.GetOrg(q.ctx, org); err != nil {
		return err
	}
	c.render(q, http.StatusOK, "confirm", "confirm.title", confirmData{QuestionID: "org.members.remove.confirm", Subject: user,
		Action: q.r.URL.Path, Cancel: Base + "orgs/" + org})
	return nil
}

func removeOrgMember(c *Console, q *request) error {
	org := q.r.PathValue("org")
	if err := c.svc.RemoveOrgMember(q.ctx, org, q.r.PathValue("user")); err != nil {
		return c.retry(q, err, orgPage)
	}
	return done(q, Base+"orgs/"+org, "member_removed")
}

// workspaceData is a workspace's page.
type workspaceData struct {
	Workspace  roster.WorkspaceView
	Members    []roster.Member
	Prev, Next string
	Me         string
}

func workspacePage(c *Console, q *request) error {
	id := q.r.PathValue("ws")
	ws, err := c.svc.GetWorkspace(q.ctx, id)
	if err != nil {
		return err
	}
	d := workspaceData{Workspace: ws, Me: q.user.ID}
	p, err := listPage(q, roster.PrefixUser)
	if err != nil {
		return err
	}
	members, next, err := c.svc.ListWorkspaceMembers(q.ctx, id, false, p)
	switch {
	case err == nil:
		d.Members = members
		if next != "" {
			d.Next = q.r.URL.Path + "?after=" + next
		}
	case !refused(err):
		return err
	}
	c.render(q, q.statusOr(http.StatusOK), "workspace", "workspace.title", d)
	return nil
}

// statusOr is the status a page answers with: an action's error's, or ok.
func (q *request) statusOr(ok int) int {
	if q.status != 0 {
		return q.status
	}
	return ok
}
