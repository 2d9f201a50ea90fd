package auth_test

import (
	"context"
	"testing"

	"tsunagu/internal/auth"
)

// Every account's actor resolves to its display name, a deactivated one
// too: its history still names it (issue 19, item 13).
func TestActorNames(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	admin := f.admin(t)
	clerk, err := f.svc.CreateStaff(ctx, admin.Actor(), auth.NewStaff{Login: "tanaka", DisplayName: "田中 花子", Role: auth.RoleOperator, Password: "clerk password 1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deactivate(ctx, admin.Actor(), clerk.ID); err != nil {
		t.Fatal(err)
	}
	names, err := f.svc.ActorNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"staff:admin": "支店長", "staff:tanaka": "田中 花子"}
	if len(names) != len(want) {
		t.Fatalf("names: %v", names)
	}
	for actor, name := range want {
		if names[actor] != name {
			t.Errorf("%s: %q, want %q", actor, names[actor], name)
		}
	}
}
