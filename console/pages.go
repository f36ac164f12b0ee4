package console

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster"
)

// pageSize is how many rows a console list shows at a time.
const pageSize = 50

// readList reads one page of a list by the cursor in the query parameter
// param (a page with several lists pages each on its own), and the links
// to its other pages.
func readList[T any](q *request, param, idPrefix string, list func(roster.Page) ([]T, string, error)) ([]T, links, error) {
	p, err := roster.ParsePage(pageSize, q.r.URL.Query().Get(param), idPrefix)
	if err != nil {
		return nil, links{}, err
	}
	items, next, err := list(p)
	if err != nil {
		return nil, links{}, err
	}
	return items, linksFor(q, param, next), nil
}

// mainList is readList for a page's main list, paged by ?after=.
func mainList[T any](q *request, idPrefix string, list func(roster.Page) ([]T, string, error)) ([]T, links, error) {
	return readList(q, "after", idPrefix, list)
}

// links are the links to the first and the next page of a list.
type links struct{ Prev, Next string }

// linksFor links the pages of the list whose cursor is in param, keeping
// the page's other query parameters. Cursors only go forward, so "back"
// is the first page.
func linksFor(q *request, param, next string) links {
	var l links
	if next != "" {
		v := q.r.URL.Query()
		v.Set(param, next)
		l.Next = q.r.URL.Path + "?" + v.Encode()
	}
	if q.r.URL.Query().Get(param) != "" {
		v := q.r.URL.Query()
		v.Del(param)
		l.Prev = q.r.URL.Path
		if len(v) > 0 {
			l.Prev += "?" + v.Encode()
		}
	}
	return l
}

// homeData is the signed-in user's organisations and workspaces.
type homeData struct {
	Invitations []roster.Invitation // pending invitations to the user's email
	Orgs        []homeOrg
	DefaultWsID string
	links       // pages of the organisations
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
	if d.Invitations, _, err = c.svc.MyInvitations(q.ctx, roster.Page{Limit: pageSize}); err != nil {
		return err
	}
	if me.User.DefaultWorkspaceID != nil {
		d.DefaultWsID = *me.User.DefaultWorkspaceID
	}
	// The list comes whole; the console shows it a page at a time.
	n, _ := strconv.Atoi(q.r.URL.Query().Get("page"))
	n = max(n, 0)
	from, to := min(n*pageSize, len(me.Orgs)), min((n+1)*pageSize, len(me.Orgs))
	for _, mo := range me.Orgs[from:to] {
		h := homeOrg{Org: roster.Org{ID: mo.OrgID}, Role: mo.Role, Workspaces: mo.Workspaces}
		if mo.Role != "" { // an external sees nothing of the organisation but their workspaces
			if h.Org, err = c.svc.GetOrg(q.ctx, mo.OrgID); err != nil {
				return err
			}
		}
		d.Orgs = append(d.Orgs, h)
	}
	if n > 0 {
		d.Prev = Base + "?page=" + strconv.Itoa(n-1)
	}
	if to < len(me.Orgs) {
		d.Next = Base + "?page=" + strconv.Itoa(n+1)
	}
	c.render(q, q.pageStatus(), "home", "home.title", d)
	return nil
}

// orgData is an organisation's page.
type orgData struct {
	Org        roster.Org
	Seats      *roster.Seats // nil for those who may not see them
	SeatRoles  []seatRole
	Taken      int // seats used and pending
	Members    []roster.OrgMembership
	links      // pages of the members
	Workspaces []roster.WorkspaceView
	// WorkspaceLinks page the workspaces, apart from the members.
	WorkspaceLinks links
	Roles          []roster.OrgRole
	Me             string
	Staff          bool // the plan form is offered: staff set plans
	WsRoles        []roster.WorkspaceRole
	Audit          string
}

// Free reports whether the plan makes a workspace role free.
func (d orgData) Free(r roster.WorkspaceRole) bool { return !d.Org.Plan.Paid(r) }

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
	d := orgData{Org: org, Roles: roster.OrgRoles, Me: q.user.ID, Staff: q.user.PlatformRole.IsStaff(), WsRoles: roster.WorkspaceRoles, Audit: auditLink(org.ID)}
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
	if d.Members, d.links, _, err = section(q, "after", roster.PrefixUser, func(p roster.Page) ([]roster.OrgMembership, string, error) {
		return c.svc.ListOrgMembers(q.ctx, id, p)
	}); err != nil {
		return err
	}
	if d.Workspaces, d.WorkspaceLinks, _, err = section(q, "ws_after", roster.PrefixWorkspace, func(p roster.Page) ([]roster.WorkspaceView, string, error) {
		return c.svc.ListWorkspaces(q.ctx, roster.WorkspaceFilter{OrgID: id}, p)
	}); err != nil {
		return err
	}
	c.render(q, q.pageStatus(), "org", "org.title", d)
	return nil
}

// section is readList for a list the caller may not be shown: one the
// service refuses is left out (shown is false); any other failure fails
// the page.
func section[T any](q *request, param, idPrefix string, list func(roster.Page) ([]T, string, error)) (items []T, l links, shown bool, err error) {
	items, l, err = readList(q, param, idPrefix, list)
	if refused(err) {
		return nil, links{}, false, nil
	}
	return items, l, err == nil, err
}

// refused reports whether the service refused the caller a part of a page
// (which the page then leaves out), as opposed to failing.
func refused(err error) bool {
	var e *roster.Error
	return errors.As(err, &e) && (e.Kind == roster.KindForbidden || e.Kind == roster.KindNotFound)
}

func addOrgMember(c *Console, q *request) error {
	return putOrgMember(c, q, q.r.PostFormValue("user_id"), "member_added")
}

func changeOrgMember(c *Console, q *request) error {
	return putOrgMember(c, q, q.r.PathValue("user"), "role_changed")
}

// putOrgMember gives a user the form's role in the organisation.
func putOrgMember(c *Console, q *request, userID, notice string) error {
	org := q.r.PathValue("org")
	if _, _, err := c.svc.PutOrgMember(q.ctx, org, userID, q.r.PostFormValue("role")); err != nil {
		return c.retry(q, err, orgPage)
	}
	return done(q, Base+"orgs/"+org, notice)
}

// setPlan sets the organisation's plan: its seat cap (empty: none), the
// workspace roles that take no seat, and whether one owner is free.
func setPlan(c *Console, q *request) error {
	org := q.r.PathValue("org")
	in := roster.PlanInput{FreeRoles: q.r.PostForm["free_roles"], OwnerSeatFree: q.r.PostFormValue("owner_seat_free") == "on"}
	if in.FreeRoles == nil {
		in.FreeRoles = []string{}
	}
	if s := strings.TrimSpace(q.r.PostFormValue("seat_cap")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return c.retry(q, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "the seat cap must be a whole number").With("field", "seat_cap"), orgPage)
		}
		in.SeatCap = &n
	}
	if _, err := c.svc.SetPlan(q.ctx, org, in); err != nil {
		return c.retry(q, err, orgPage)
	}
	return done(q, Base+"orgs/"+org, "plan_saved")
}

// confirmData is a confirmation page for a destructive action.
type confirmData struct {
	QuestionID string
	Subject    string
	Action     string
	Cancel     string
	Fields     []field // a form's fields, posted again once confirmed
}

type field struct{ Name, Value string }

// confirm shows the confirmation page of a destructive action: it posts to
// the page's own URL, or goes back to cancel.
func (c *Console) confirm(q *request, questionID, subject, cancel string) error {
	c.render(q, http.StatusOK, "confirm", "confirm.title", confirmData{QuestionID: questionID, Subject: subject, Action: q.r.URL.Path, Cancel: cancel})
	return nil
}

// confirmFirst answers a destructive form that has not been confirmed yet
// with a confirmation page that posts the same fields again, confirmed;
// it reports whether it did.
func (c *Console) confirmFirst(q *request, questionID, subject, cancel string) bool {
	if q.r.PostFormValue("confirmed") != "" {
		return false
	}
	d := confirmData{QuestionID: questionID, Subject: subject, Action: q.r.URL.Path, Cancel: cancel,
		Fields: []field{{Name: "confirmed", Value: "yes"}}}
	for _, name := range slices.Sorted(maps.Keys(q.r.PostForm)) {
		if name == "csrf" || name == "confirmed" {
			continue
		}
		for _, v := range q.r.PostForm[name] {
			d.Fields = append(d.Fields, field{Name: name, Value: v})
		}
	}
	c.render(q, http.StatusOK, "confirm", "confirm.title", d)
	return true
}

func confirmRemoveOrgMember(c *Console, q *request) error {
	org, user := q.r.PathValue("org"), q.r.PathValue("user")
	if _, err := c.svc.GetOrg(q.ctx, org); err != nil {
		return err
	}
	return c.confirm(q, "org.members.remove.confirm", user, Base+"orgs/"+org)
}

func removeOrgMember(c *Console, q *request) error {
	org := q.r.PathValue("org")
	if err := c.svc.RemoveOrgMember(q.ctx, org, q.r.PathValue("user")); err != nil {
		return c.retry(q, err, orgPage)
	}
	return done(q, Base+"orgs/"+org, "member_removed")
}

// workspaceData is a workspace's page. The sections its viewer may not
// see (invitations, access requests, support sessions are for its admins)
// are nil.
type workspaceData struct {
	Workspace   roster.WorkspaceView
	Members     []roster.Member
	links       // pages of the members
	Me          string
	Roles       []roster.WorkspaceRole
	DefaultRole roster.WorkspaceRole // preselected in the invitation and approval forms
	Invitations []roster.Invitation
	Requests    []roster.AccessRequest
	Support     []roster.SupportSession
	// Each admin section pages on its own.
	InvitationLinks, RequestLinks, SupportLinks links
	Managed                                     bool                     // the viewer may see the admin sections
	Issued                                      *roster.IssuedInvitation // just created or resent: its link, shown once
}

func workspacePage(c *Console, q *request) error {
	id := q.r.PathValue("ws")
	ws, err := c.svc.GetWorkspace(q.ctx, id)
	if err != nil {
		return err
	}
	d := workspaceData{Workspace: ws, Me: q.user.ID, Roles: roster.WorkspaceRoles, DefaultRole: roster.RoleMember, Issued: q.issued}
	if d.Members, d.links, _, err = section(q, "after", roster.PrefixUser, func(p roster.Page) ([]roster.Member, string, error) {
		return c.svc.ListWorkspaceMembers(q.ctx, id, false, p)
	}); err != nil {
		return err
	}
	// The admin sections show for those who may list invitations.
	if d.Invitations, d.InvitationLinks, d.Managed, err = section(q, "inv_after", roster.PrefixInvitation, func(p roster.Page) ([]roster.Invitation, string, error) {
		return c.svc.ListInvitations(q.ctx, id, roster.InvitationPending, p)
	}); err != nil {
		return err
	}
	if d.Managed {
		if d.Requests, d.RequestLinks, _, err = section(q, "req_after", roster.PrefixAccessRequest, func(p roster.Page) ([]roster.AccessRequest, string, error) {
			return c.svc.ListAccessRequests(q.ctx, id, roster.RequestPending, p)
		}); err != nil {
			return err
		}
		if d.Support, d.SupportLinks, _, err = section(q, "sup_after", roster.PrefixSupportSession, func(p roster.Page) ([]roster.SupportSession, string, error) {
			return c.svc.ListWorkspaceSupportSessions(q.ctx, id, p)
		}); err != nil {
			return err
		}
	}
	c.render(q, q.pageStatus(), "workspace", "workspace.title", d)
	return nil
}

func wsPath(q *request) string { return Base + "workspaces/" + q.r.PathValue("ws") }

// invite creates an invitation and shows its link on the workspace page,
// once: the page is the answer to the POST, so the secret is in no URL.
func invite(c *Console, q *request) error {
	in := roster.NewInvitation{Email: q.r.PostFormValue("email"), Role: q.r.PostFormValue("role")}
	if days := q.r.PostFormValue("days"); days != "" {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return c.retry(q, roster.Errorf(roster.KindInvalid, roster.CodeInvalidExpiry, "days must be a whole number").With("field", "expires_in"), workspacePage)
		}
		seconds := n * 24 * 60 * 60
		in.ExpiresIn = &seconds
	}
	issued, err := c.svc.Invite(q.ctx, q.r.PathValue("ws"), in)
	if err != nil {
		return c.retry(q, err, workspacePage)
	}
	return c.showIssued(q, issued)
}

func resendInvitation(c *Console, q *request) error {
	issued, err := c.svc.ResendInvitation(q.ctx, q.r.PathValue("ws"), q.r.PathValue("inv"))
	if err != nil {
		return c.retry(q, err, workspacePage)
	}
	return c.showIssued(q, issued)
}

func (c *Console) showIssued(q *request, issued roster.IssuedInvitation) error {
	q.issued = &issued
	q.notice = "done.invited"
	return workspacePage(c, q)
}

func confirmRevokeInvitation(c *Console, q *request) error {
	inv, err := c.pendingInvitation(q, q.r.PathValue("ws"), q.r.PathValue("inv"))
	if err != nil {
		return err
	}
	return c.confirm(q, "invitation.revoke.confirm", inv.Email, wsPath(q))
}

var errInvitationNotFound = roster.Errorf(roster.KindNotFound, roster.CodeInvitationNotFound, "no such pending invitation")

// pendingInvitation finds a workspace's pending invitation by id, as the
// caller may list them.
func (c *Console) pendingInvitation(q *request, wsID, id string) (roster.Invitation, error) {
	p := roster.Page{Limit: roster.MaxPageLimit}
	for {
		invs, next, err := c.svc.ListInvitations(q.ctx, wsID, roster.InvitationPending, p)
		if err != nil {
			return roster.Invitation{}, err
		}
		for _, inv := range invs {
			if inv.ID == id {
				return inv, nil
			}
		}
		if next == "" {
			return roster.Invitation{}, errInvitationNotFound
		}
		if p, err = roster.ParsePage(p.Limit, next, roster.PrefixInvitation); err != nil {
			return roster.Invitation{}, err
		}
	}
}

func revokeInvitation(c *Console, q *request) error {
	if err := c.svc.RevokeInvitation(q.ctx, q.r.PathValue("ws"), q.r.PathValue("inv")); err != nil {
		return c.retry(q, err, workspacePage)
	}
	return done(q, wsPath(q), "invitation_revoked")
}

func decideRequest(c *Console, q *request) error {
	approve := q.r.PostFormValue("decision") == "approve"
	if !approve && c.confirmFirst(q, "request.deny.confirm", "", wsPath(q)) {
		return nil
	}
	_, err := c.svc.DecideAccessRequest(q.ctx, q.r.PathValue("ws"), q.r.PathValue("req"), approve, q.r.PostFormValue("role"))
	if err != nil {
		return c.retry(q, err, workspacePage)
	}
	if approve {
		return done(q, wsPath(q), "request_approved")
	}
	return done(q, wsPath(q), "request_denied")
}

func updateSettings(c *Console, q *request) error {
	allow := q.r.PostFormValue("allow_support_access") == "on"
	if !allow {
		ws, err := c.svc.GetWorkspace(q.ctx, q.r.PathValue("ws"))
		if err != nil {
			return err
		}
		// Withdrawing consent ends every support session there: ask first.
		if ws.Workspace.AllowSupportAccess && c.confirmFirst(q, "settings.support.off.confirm", "", wsPath(q)) {
			return nil
		}
	}
	_, err := c.svc.UpdateSettings(q.ctx, q.r.PathValue("ws"), roster.SettingsPatch{AllowSupportAccess: roster.Set(allow)})
	if err != nil {
		return c.retry(q, err, workspacePage)
	}
	return done(q, wsPath(q), "settings_saved")
}

// acceptInvitation accepts one of the signed-in user's invitations.
func acceptInvitation(c *Console, q *request) error {
	accepted, err := c.svc.AcceptInvitation(q.ctx, "", q.r.PathValue("inv"))
	if err != nil {
		return c.retry(q, err, homePage)
	}
	return done(q, Base+"workspaces/"+accepted.Invitation.WorkspaceID, "invitation_accepted")
}

// pageStatus is the status a page answers with: an action's error's, or 200.
func (q *request) pageStatus() int {
	if q.status != 0 {
		return q.status
	}
	return http.StatusOK
}
