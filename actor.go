package roster

import "context"

// Actor is who is making a request: the token and its owner, and, when a
// service token acts for a user, that user. Services decide with it.
type Actor struct {
	User       User
	Token      *Token // nil for Roster's own command line
	OnBehalfOf *User  // set when a service token acts for a user
	RequestID  string
	IP         string
}

// SystemActor is Roster acting for its operator (the command line). It has
// every right, so it is never assumed: whoever means it attaches it with
// WithActor.
func SystemActor() Actor { return Actor{} }

// IsSystem reports whether the operator's command line is acting.
func (a Actor) IsSystem() bool { return a.Token == nil }

// Subject is the user whose authority applies: the user acted for, if any,
// otherwise the token's owner.
func (a Actor) Subject() User {
	if a.OnBehalfOf != nil {
		return *a.OnBehalfOf
	}
	return a.User
}

// Delegated reports whether a service token is acting for a user.
func (a Actor) Delegated() bool { return a.OnBehalfOf != nil }

// Via names the credential kind the change came through.
func (a Actor) Via() Via {
	if a.Token == nil {
		return ViaSystem
	}
	switch a.Token.Kind {
	case TokenService:
		return ViaService
	case TokenSupport:
		return ViaSupport
	default:
		return ViaUser
	}
}

// IsService reports whether the host application's backend acts in its own
// name. Acting for a user, it has exactly that user's authority.
func (a Actor) IsService() bool {
	return a.Token != nil && a.Token.Kind == TokenService && !a.Delegated()
}

// IsPlatformAdmin reports whether the caller holds platform admin authority.
// Delegation never passes on platform privileges: a service token acting for
// an admin is not an admin.
func (a Actor) IsPlatformAdmin() bool {
	if a.IsSystem() {
		return true
	}
	return !a.Delegated() && a.Token.Kind == TokenPersonal && a.User.PlatformRole == PlatformAdmin
}

// IsStaff reports whether the caller is one of the vendor's staff acting in
// person (a personal token of a platform admin or support user). Neither
// delegation nor a support token carries staff authority.
func (a Actor) IsStaff() bool {
	return !a.IsSystem() && !a.Delegated() && a.Token.Kind == TokenPersonal && a.User.PlatformRole.IsStaff()
}

// Confined reports whether the caller holds a support token: it reaches its
// one workspace and nothing else, and it issues no tokens.
func (a Actor) Confined() bool { return a.Token != nil && a.Token.Kind == TokenSupport }

// Reaches reports whether the caller's credential may touch workspace wsID
// at all; only a support token is confined to one.
func (a Actor) Reaches(wsID string) bool {
	return !a.Confined() || (a.Token.WorkspaceID != nil && *a.Token.WorkspaceID == wsID)
}

// IsSelf reports whether the subject is the user with this id.
func (a Actor) IsSelf(userID string) bool { return !a.IsSystem() && a.Subject().ID == userID }

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; the second result is false when the
// request is not authenticated.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
