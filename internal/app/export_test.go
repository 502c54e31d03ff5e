package app

// SetNewReference replaces how references are drawn until the returned func is called.
func SetNewReference(f func() string) (restore func()) {
	old := newReference
	newReference = f
	return func() { newReference = old }
}

// RegistrationSlots returns the slots RegisterFor takes one of while it works.
func (a *App) RegistrationSlots() chan struct{} { return a.regSlots }
