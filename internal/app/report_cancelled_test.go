package app_test

import (
	"context"
	"fmt"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// TestReportCountsAdmissionsOfTheConfirmed: someone admitted at the door whose
// registration is cancelled afterwards no longer counts as admitted: the funnel's
// admissions are among the confirmed, and the no-shows and the rate follow.
func TestReportCountsAdmissionsOfTheConfirmed(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 0, model.ModeOpen)
			regs := registerAll(t, a, ev, 0, 3)
			door := app.Door{Link: &model.DoorLink{Name: "Entrée"}}
			for i, r := range regs[:2] {
				if res, err := a.CheckIn(ctx, door, ev.ID, app.ScanInput{RegistrationID: r.ID, Nonce: fmt.Sprint("n", i), Device: "Porte A"}); err != nil || res.Result != app.CheckInOK {
					t.Fatalf("check-in: %+v %v", res, err)
				}
			}
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "orga"}, regs[0].ID); err != nil {
				t.Fatal(err)
			}
			rep, err := a.EventReport(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Funnel.Confirmed != 2 || rep.Funnel.Admitted != 1 || rep.NoShows != 1 || rep.AttendanceRate != 0.5 {
				t.Fatalf("confirmed %d, admitted %d, no-shows %d, rate %.2f; want 2, 1, 1, 0.50",
					rep.Funnel.Confirmed, rep.Funnel.Admitted, rep.NoShows, rep.AttendanceRate)
			}
		})
	}
}
