package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

// questionKinds are the kinds offered in the editor's select.
var questionKinds = stringsOf(model.QuestionKinds)

func questionsURL(eventID int64) string {
	return "/admin/events/" + strconv.FormatInt(eventID, 10) + "/questions"
}

// bindQuestion reads the question editor's form.
func bindQuestion(c echo.Context, q *model.Question) map[string]string {
	q.Label, q.Help, q.Options = c.FormValue("label"), c.FormValue("help"), c.FormValue("options")
	q.Kind = model.QuestionKind(c.FormValue("kind"))
	q.Required = c.FormValue("required") == "yes"
	return questionValues(q)
}

func questionValues(q *model.Question) map[string]string {
	vals := map[string]string{"label": q.Label, "help": q.Help, "kind": string(q.Kind), "options": q.Options}
	if q.Required {
		vals["required"] = "yes"
	}
	return vals
}

// questionsPage lists an event's custom questions with the form to add one.
func (s *Server) questionsPage(c echo.Context, ev *model.Event, vals map[string]string, ferr *model.Error) (*Page, error) {
	questions, err := s.app.Store.ListQuestions(c.Request().Context(), ev.ID)
	if err != nil {
		return nil, err
	}
	p := s.page(c, "")
	p.Title = p.T("questions.title") + " · " + ev.Title
	p.Nav = "events"
	p.Data["Event"] = ev
	p.Data["Questions"] = questions
	p.Data["Kinds"] = questionKinds
	if vals == nil {
		vals = map[string]string{"kind": string(model.QText)}
	}
	p.Form.Values = vals
	if ferr != nil {
		p.Form.Errors, p.Form.Error = ferr.Fields, p.T(ferr.Message)
	}
	return p, nil
}

func (s *Server) handleQuestions(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	p, err := s.questionsPage(c, ev, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_questions", p)
}

func (s *Server) handleQuestionAdd(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	q := &model.Question{EventID: ev.ID}
	vals := bindQuestion(c, q)
	if err := s.app.SaveQuestion(c.Request().Context(), actor(c), q); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			p, perr := s.questionsPage(c, ev, vals, me)
			if perr != nil {
				return perr
			}
			return s.render(c, http.StatusUnprocessableEntity, "event_questions", p)
		}
		return err
	}
	s.flash(c, "ok", "questions.added")
	return s.redirect(c, questionsURL(ev.ID))
}

// eventQuestion finds the question of the URL among the event's questions.
func (s *Server) eventQuestion(c echo.Context) (*model.Event, *model.Question, error) {
	ev, err := s.adminEvent(c)
	if err != nil {
		return nil, nil, err
	}
	id, err := paramID(c, "q")
	if err != nil {
		return nil, nil, err
	}
	questions, err := s.app.Store.ListQuestions(c.Request().Context(), ev.ID)
	if err != nil {
		return nil, nil, err
	}
	for i := range questions {
		if questions[i].ID == id {
			return ev, &questions[i], nil
		}
	}
	return nil, nil, model.ErrNotFound
}

func (s *Server) questionEditPage(c echo.Context, ev *model.Event, q *model.Question, vals map[string]string, ferr *model.Error) *Page {
	p := s.page(c, "")
	p.Title = p.T("questions.edit_title") + " · " + ev.Title
	p.Nav = "events"
	p.Data["Event"] = ev
	p.Data["Question"] = q
	p.Data["Kinds"] = questionKinds
	if vals == nil {
		vals = questionValues(q)
	}
	p.Form.Values = vals
	if ferr != nil {
		p.Form.Errors, p.Form.Error = ferr.Fields, p.T(ferr.Message)
	}
	return p
}

func (s *Server) handleQuestionEdit(c echo.Context) error {
	ev, q, err := s.eventQuestion(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_question_edit", s.questionEditPage(c, ev, q, nil, nil))
}

func (s *Server) handleQuestionUpdate(c echo.Context) error {
	ev, q, err := s.eventQuestion(c)
	if err != nil {
		return err
	}
	vals := bindQuestion(c, q)
	if err := s.app.SaveQuestion(c.Request().Context(), actor(c), q); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			return s.render(c, http.StatusUnprocessableEntity, "event_question_edit", s.questionEditPage(c, ev, q, vals, me))
		}
		return err
	}
	s.flash(c, "ok", "questions.saved")
	return s.redirect(c, questionsURL(ev.ID))
}

func (s *Server) handleQuestionMove(c echo.Context) error {
	ev, q, err := s.eventQuestion(c)
	if err != nil {
		return err
	}
	dir := 1
	if c.FormValue("dir") == "up" {
		dir = -1
	}
	if err := s.app.Store.MoveQuestion(c.Request().Context(), ev.ID, q.ID, dir); err != nil {
		return err
	}
	return s.redirect(c, questionsURL(ev.ID))
}

func (s *Server) handleQuestionDelete(c echo.Context) error {
	ev, q, err := s.eventQuestion(c)
	if err != nil {
		return err
	}
	if err := s.app.DeleteQuestion(c.Request().Context(), actor(c), ev.ID, q.ID); err != nil {
		return err
	}
	s.flash(c, "ok", "questions.removed")
	return s.redirect(c, questionsURL(ev.ID))
}
