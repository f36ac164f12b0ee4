package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/roster-dev/roster"
)

// Staff pages: users, support access, tasks, webhooks and the audit log.
// Each shows what the service lets the signed-in user see; the service
// alone decides, as for the API.

// usersData is the staff's user directory.
type usersData struct {
	Query string
	Users []roster.User
	links
}

// CanSuspend reports whether the page offers to suspend u.
func (usersData) CanSuspend(u roster.User) bool { return u.Status == roster.UserActive }

// CanReactivate reports whether the page offers to reactivate u.
func (usersData) CanReactivate(u roster.User) bool { return u.Status == roster.UserSuspended }

func usersPage(c *Console, q *request) error {
	d := usersData{Query: q.r.URL.Query().Get("q")}
	var err error
	if d.Users, d.links, err = mainList(q, roster.PrefixUser, func(p roster.Page) ([]roster.User, string, error) {
		return c.svc.ListUsers(q.ctx, roster.UserFilter{Query: d.Query}, p)
	}); err != nil {
		return err
	}
	c.render(q, q.pageStatus(), "users", "users.title", d)
	return nil
}

func confirmSuspend(c *Console, q *request) error {
	u, err := c.svc.GetUser(q.ctx, q.r.PathValue("user"))
	if err != nil {
		return err
	}
	return c.confirm(q, "users.suspend.confirm", u.DisplayName, Base+"staff/users")
}

func suspendUser(c *Console, q *request) error {
	return setStatus(c, q, roster.UserSuspended, "user_suspended")
}

func reactivateUser(c *Console, q *request) error {
	return setStatus(c, q, roster.UserActive, "user_reactivated")
}

func setStatus(c *Console, q *request, status roster.UserStatus, notice string) error {
	_, err := c.svc.UpdateUser(q.ctx, q.r.PathValue("user"), roster.UserPatch{Status: roster.Set(string(status))})
	if err != nil {
		return c.retry(q, err, usersPage)
	}
	return done(q, Base+"staff/users", notice)
}

// supportData is a staff member's support sessions and the join form.
type supportData struct {
	Sessions []roster.SupportSession
	Joined   *roster.SupportJoin // just joined or extended: its token, shown once
	links
}

func supportPage(c *Console, q *request) error {
	d := supportData{Joined: q.joined}
	var err error
	if d.Sessions, d.links, err = mainList(q, roster.PrefixSupportSession, func(p roster.Page) ([]roster.SupportSession, string, error) {
		return c.svc.ListSupportSessions(q.ctx, roster.SupportFilter{ActiveAt: q.now}, p)
	}); err != nil {
		return err
	}
	c.render(q, q.pageStatus(), "support", "support.staff.title", d)
	return nil
}

// joinSupport starts or extends a support session; the page that answers
// the POST shows its token once.
func joinSupport(c *Console, q *request) error {
	in := roster.SupportRequest{Reason: q.r.PostFormValue("reason")}
	if m := q.r.PostFormValue("minutes"); m != "" {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return c.retry(q, roster.Errorf(roster.KindInvalid, roster.CodeInvalidDuration, "minutes must be a whole number").With("field", "duration"), supportPage)
		}
		seconds := n * 60
		in.Duration = &seconds
	}
	wsID := strings.TrimSpace(q.r.PostFormValue("workspace_id"))
	joined, err := c.svc.JoinSupport(q.ctx, wsID, in)
	if err != nil {
		return c.retry(q, err, supportPage)
	}
	q.joined, q.notice = &joined, "done.support_"+string(joined.Status)
	return supportPage(c, q)
}

func confirmLeave(c *Console, q *request) error {
	ws := q.r.PathValue("ws")
	if _, err := c.svc.MySupportSession(q.ctx, ws); err != nil {
		return err
	}
	return c.confirm(q, "support.leave.confirm", ws, Base+"staff/support")
}

func leaveSupport(c *Console, q *request) error {
	if _, err := c.svc.LeaveSupport(q.ctx, q.r.PathValue("ws")); err != nil {
		return c.retry(q, err, supportPage)
	}
	return done(q, Base+"staff/support", "support_left")
}

// tasksData is the operators' view of Roster's durable work.
type tasksData struct {
	Tasks        []roster.Task
	Status, Type string
	Statuses     []roster.TaskStatus
	Types        []roster.TaskType
	links
}

func tasksPage(c *Console, q *request) error {
	var f roster.TaskFilter
	var err error
	d := tasksData{Status: q.r.URL.Query().Get("status"), Type: q.r.URL.Query().Get("type"), Statuses: roster.TaskStatuses, Types: roster.TaskTypes}
	if d.Status != "" {
		if f.Status, err = roster.ParseTaskStatus(d.Status); err != nil {
			return err
		}
	}
	if d.Type != "" {
		if f.Type, err = roster.ParseTaskType(d.Type); err != nil {
			return err
		}
	}
	if d.Tasks, d.links, err = mainList(q, roster.PrefixTask, func(p roster.Page) ([]roster.Task, string, error) {
		return c.svc.ListTasks(q.ctx, f, p)
	}); err != nil {
		return err
	}
	c.render(q, q.pageStatus(), "tasks", "tasks.title", d)
	return nil
}

func confirmCancelTask(c *Console, q *request) error {
	t, err := c.svc.GetTask(q.ctx, q.r.PathValue("task"))
	if err != nil {
		return err
	}
	return c.confirm(q, "tasks.cancel.confirm", t.ID+" ("+string(t.Type)+")", Base+"staff/tasks")
}

func cancelTask(c *Console, q *request) error {
	if _, err := c.svc.CancelTask(q.ctx, q.r.PathValue("task")); err != nil {
		return c.retry(q, err, tasksPage)
	}
	return done(q, Base+"staff/tasks", "task_cancelled")
}

func retryTask(c *Console, q *request) error {
	if _, err := c.svc.RetryTask(q.ctx, q.r.PathValue("task")); err != nil {
		return c.retry(q, err, tasksPage)
	}
	return done(q, Base+"staff/tasks", "task_retried")
}

// webhooksData is the host application's endpoints.
type webhooksData struct {
	Webhooks []roster.Webhook
	Secret   *roster.Webhook // just created or rotated: its secret, shown once
	links
}

func webhooksPage(c *Console, q *request) error {
	d := webhooksData{Secret: q.secret}
	var err error
	if d.Webhooks, d.links, err = mainList(q, roster.PrefixWebhook, func(p roster.Page) ([]roster.Webhook, string, error) {
		return c.svc.ListWebhooks(q.ctx, p)
	}); err != nil {
		return err
	}
	c.render(q, q.pageStatus(), "webhooks", "webhooks.title", d)
	return nil
}

func createWebhook(c *Console, q *request) error {
	in := roster.NewWebhook{URL: strings.TrimSpace(q.r.PostFormValue("url")), Description: q.r.PostFormValue("description")}
	in.EventTypes = strings.FieldsFunc(q.r.PostFormValue("event_types"), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	w, err := c.svc.CreateWebhook(q.ctx, in)
	if err != nil {
		return c.retry(q, err, webhooksPage)
	}
	q.secret, q.notice = &w, "done.webhook_created"
	return webhooksPage(c, q)
}

func confirmRotate(c *Console, q *request) error {
	w, err := c.svc.GetWebhook(q.ctx, q.r.PathValue("hook"))
	if err != nil {
		return err
	}
	return c.confirm(q, "webhooks.rotate.confirm", w.URL, Base+"staff/webhooks")
}

func rotateWebhook(c *Console, q *request) error {
	w, err := c.svc.RotateWebhookSecret(q.ctx, q.r.PathValue("hook"))
	if err != nil {
		return c.retry(q, err, webhooksPage)
	}
	q.secret, q.notice = &w, "done.webhook_rotated"
	return webhooksPage(c, q)
}

// deliveriesData is one endpoint's deliveries.
type deliveriesData struct {
	Webhook    roster.Webhook
	Deliveries []roster.Delivery
	links
}

func deliveriesPage(c *Console, q *request) error {
	w, err := c.svc.GetWebhook(q.ctx, q.r.PathValue("hook"))
	if err != nil {
		return err
	}
	d := deliveriesData{Webhook: w}
	if d.Deliveries, d.links, err = mainList(q, roster.PrefixDelivery, func(p roster.Page) ([]roster.Delivery, string, error) {
		return c.svc.ListDeliveries(q.ctx, w.ID, p)
	}); err != nil {
		return err
	}
	c.render(q, http.StatusOK, "deliveries", "deliveries.title", d)
	return nil
}

// auditData is a page of the audit log and its filters.
type auditData struct {
	Filter       roster.AuditFilter
	Since, Until string
	Events       []roster.AuditEvent
	links
	Export       string // the export of what the filters select
	Verification *roster.Verification
}

// auditFilter reads the filters of the audit pages: ids, an action, and
// a range of dates (inclusive days, UTC).
func auditFilter(q *request) (roster.AuditFilter, error) {
	v := q.r.URL.Query()
	f := roster.AuditFilter{OrgID: v.Get("org_id"), WorkspaceID: v.Get("workspace_id"), ActorID: v.Get("actor_id"), Action: v.Get("action")}
	for _, d := range []struct {
		name  string
		into  **time.Time
		shift time.Duration
	}{{"since", &f.Since, 0}, {"until", &f.Until, 24 * time.Hour}} {
		if s := v.Get(d.name); s != "" {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return f, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRange, "%s must be a date like 2026-12-31", d.name).With("field", d.name)
			}
			t = t.Add(d.shift)
			*d.into = &t
		}
	}
	return f, nil
}

func auditPage(c *Console, q *request) error {
	f, err := auditFilter(q)
	if err != nil {
		return err
	}
	v := q.r.URL.Query()
	v.Del("after")
	d := auditData{Filter: f, Since: v.Get("since"), Until: v.Get("until"), Verification: q.verified,
		Export: Base + "audit/export?" + v.Encode()}
	if d.Events, d.links, err = mainList(q, roster.PrefixAudit, func(p roster.Page) ([]roster.AuditEvent, string, error) {
		return c.svc.ListAudit(q.ctx, f, p)
	}); err != nil {
		return err
	}
	c.render(q, q.pageStatus(), "audit", "audit.title", d)
	return nil
}

// exportAudit downloads the sealed events the filters select, in the
// API's export format, for offline verification.
func exportAudit(c *Console, q *request) error {
	f, err := auditFilter(q)
	if err != nil {
		return err
	}
	events, err := c.svc.ExportAudit(q.ctx, f)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/x-ndjson")
	q.w.Header().Set("Content-Disposition", `attachment; filename="roster-audit.ndjson"`)
	if err := roster.WriteExport(q.w, events); err != nil {
		c.log.WarnContext(q.r.Context(), "console audit export cut short", "error", err)
	}
	return nil
}

func verifyAudit(c *Console, q *request) error {
	v, err := c.svc.VerifyAudit(q.ctx)
	if err != nil {
		return c.retry(q, err, auditPage)
	}
	q.verified = &v
	return auditPage(c, q)
}

// LongRunning reports whether a console request lasts as long as its
// client rather than a request's deadline: the audit export and the
// chain's verification.
func LongRunning(r *http.Request) bool {
	return r.URL.Path == Base+"audit/export" || r.URL.Path == Base+"audit/verify"
}

// auditLink is the audit page filtered to one organisation.
func auditLink(orgID string) string { return Base + "audit?" + url.Values{"org_id": {orgID}}.Encode() }
