package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/roster-dev/roster/client"
)

// A host application's backend signs a user up, gives them a workspace and
// asks Roster whether they may write there.
func Example() {
	ctx := context.Background()
	rc, err := client.New("http://127.0.0.1:8080", "rst_svc_…") // a service token
	if err != nil {
		log.Fatal(err)
	}
	ann, err := rc.CreateUser(ctx, client.NewUser{Email: "ann@example.com", DisplayName: "Ann"})
	var p *client.Problem
	if errors.As(err, &p) && p.Code == "email_taken" {
		log.Fatal("Ann has signed up already")
	}
	org, _ := rc.CreateOrg(ctx, client.NewOrg{Name: "Acme", Slug: "acme", OwnerID: ann.ID,
		Workspace: &client.NewOrgWorkspace{Name: "Main", Slug: "main"}})
	d, _ := rc.Check(ctx, client.CheckRequest{UserID: ann.ID, Action: "resources.write", WorkspaceID: org.Workspace.ID})
	fmt.Println(d.Allowed)
}

// Lists are iterators that follow cursors.
func ExampleClient_ListMembers() {
	ctx := context.Background()
	rc, _ := client.New("http://127.0.0.1:8080", "rst_pat_…")
	for m, err := range rc.ListMembers(ctx, "ws_…", client.MemberFilter{}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.UserID, m.Role)
	}
}
