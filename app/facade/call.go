package facade

import (
	"context"
	"fmt"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
)

// call is the one path of a guarded bound method: it checks the session and
// permission p (guard.go), runs fn with the signed-in staff member and the
// running engine, and turns fn's error into a message code (msgcode).
//
//	func (s *CustomerService) Customers(f customer.Filter) (customer.Page, error) {
//		return call(s.a, auth.PermCustomersRead, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (customer.Page, error) {
//			return eng.Customers().List(ctx, st, f)
//		})
//	}
func call[T any](a *Client, p auth.Permission, fn func(ctx context.Context, st auth.Staff, eng *engine.Engine) (T, error)) (T, error) {
	var zero T
	st, _, eng, err := a.requireService(p)
	if err != nil {
		return zero, err
	}
	v, err := fn(a.context(), st, eng)
	if err != nil {
		return zero, a.userError(err)
	}
	return v, nil
}

// run is call for methods without a result.
func run(a *Client, p auth.Permission, fn func(ctx context.Context, st auth.Staff, eng *engine.Engine) error) error {
	_, err := call(a, p, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (struct{}, error) {
		return struct{}{}, fn(ctx, st, eng)
	})
	return err
}

// featureCall is call for a feature the engine may run without (web forms,
// booking, routes need the relay): its service, or an error naming the
// feature when it is off.
func featureCall[S, T any](a *Client, p auth.Permission, service func(*engine.Engine) *S, what string, do func(ctx context.Context, st auth.Staff, svc *S) (T, error)) (T, error) {
	return call(a, p, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (T, error) {
		svc := service(eng)
		if svc == nil {
			var zero T
			return zero, fmt.Errorf("facade: %s is off", what)
		}
		return do(ctx, st, svc)
	})
}
