package console

import (
	"net/http"
)

func (c *Console) routes() {
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console", http.FileServerFS(staticFiles)))
	c.mux.HandleFunc("GET /console/sign-in", c.signInForm)
	c.mux.HandleFunc("POST /console/sign-in", c.signInWithToken)
	c.mux.HandleFunc("GET /console/login/{secret}", c.loginLinkForm)
	c.mux.HandleFunc("POST /console/login/{secret}", c.signInWithLink)
	c.mux.HandleFunc("GET /console/language", c.chooseLanguage)
	c.mux.HandleFunc("POST /console/sign-out", c.signedIn(signOut))

	c.mux.HandleFunc("GET /console/{$}", c.signedIn(homePage))
	c.mux.HandleFunc("GET /console/orgs/{org}", c.signedIn(orgPage))
	c.mux.HandleFunc("POST /console/orgs/{org}/plan", c.signedIn(setPlan))
	c.mux.HandleFunc("POST /console/orgs/{org}/members", c.signedIn(addOrgMember))
	c.mux.HandleFunc("POST /console/orgs/{org}/members/{user}", c.signedIn(changeOrgMember))
	c.mux.HandleFunc("GET /console/orgs/{org}/members/{user}/remove", c.signedIn(confirmRemoveOrgMember))
	c.mux.HandleFunc("POST /console/orgs/{org}/members/{user}/remove", c.signedIn(removeOrgMember))
	c.mux.HandleFunc("GET /console/workspaces/{ws}", c.signedIn(workspacePage))
	c.mux.HandleFunc("POST /console/workspaces/{ws}/invitations", c.signedIn(invite))
	c.mux.HandleFunc("POST /console/workspaces/{ws}/invitations/{inv}/resend", c.signedIn(resendInvitation))
	c.mux.HandleFunc("GET /console/workspaces/{ws}/invitations/{inv}/revoke", c.signedIn(confirmRevokeInvitation))
	c.mux.HandleFunc("POST /console/workspaces/{ws}/invitations/{inv}/revoke", c.signedIn(revokeInvitation))
	c.mux.HandleFunc("POST /console/workspaces/{ws}/requests/{req}", c.signedIn(decideRequest))
	c.mux.HandleFunc("POST /console/workspaces/{ws}/settings", c.signedIn(updateSettings))
	c.mux.HandleFunc("POST /console/invitations/{inv}/accept", c.signedIn(acceptInvitation))

	c.mux.HandleFunc("GET /console/staff/users", c.signedIn(usersPage))
	c.mux.HandleFunc("GET /console/staff/users/{user}/suspend", c.signedIn(confirmSuspend))
	c.mux.HandleFunc("POST /console/staff/users/{user}/suspend", c.signedIn(suspendUser))
	c.mux.HandleFunc("POST /console/staff/users/{user}/reactivate", c.signedIn(reactivateUser))
	c.mux.HandleFunc("GET /console/staff/support", c.signedIn(supportPage))
	c.mux.HandleFunc("POST /console/staff/support", c.signedIn(joinSupport))
	c.mux.HandleFunc("GET /console/staff/support/{ws}/leave", c.signedIn(confirmLeave))
	c.mux.HandleFunc("POST /console/staff/support/{ws}/leave", c.signedIn(leaveSupport))
	c.mux.HandleFunc("GET /console/staff/tasks", c.signedIn(tasksPage))
	c.mux.HandleFunc("GET /console/staff/tasks/{task}/cancel", c.signedIn(confirmCancelTask))
	c.mux.HandleFunc("POST /console/staff/tasks/{task}/cancel", c.signedIn(cancelTask))
	c.mux.HandleFunc("POST /console/staff/tasks/{task}/retry", c.signedIn(retryTask))
	c.mux.HandleFunc("GET /console/staff/webhooks", c.signedIn(webhooksPage))
	c.mux.HandleFunc("POST /console/staff/webhooks", c.signedIn(createWebhook))
	c.mux.HandleFunc("GET /console/staff/webhooks/{hook}", c.signedIn(deliveriesPage))
	c.mux.HandleFunc("GET /console/staff/webhooks/{hook}/rotate", c.signedIn(confirmRotate))
	c.mux.HandleFunc("POST /console/staff/webhooks/{hook}/rotate", c.signedIn(rotateWebhook))
	c.mux.HandleFunc("GET /console/audit", c.signedIn(auditPage))
	c.mux.HandleFunc("GET /console/audit/export", c.signedIn(exportAudit))
	c.mux.HandleFunc("POST /console/audit/verify", c.signedIn(verifyAudit))

	c.mux.HandleFunc("/console/", c.notFound)
}
