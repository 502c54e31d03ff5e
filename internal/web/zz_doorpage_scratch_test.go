package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"relais/internal/browsertest"
	"relais/internal/model"
)

func TestDoorpageScratch(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(40, model.ModeOpen)
	doorpageRegister(e, ev, "Kafui", "Adjo", "kafui@example.tg", "Le blog de Kafui")
	tok := doorpageLink(e, ev, "Entrée principale", true, true).Token
	ctx := browsertest.New(t, 390, 844)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/door/l/"+tok+"?nocamera=1"), chromedp.WaitVisible(chromedp.ID("scan")), chromedp.Sleep(1500*1000*1000)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "page")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("details.walkin summary")), chromedp.SendKeys(chromedp.ID("q"), "ka"), chromedp.Sleep(500*1000*1000)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "page2")
}
