from django.urls import path

from apps.exams import views

app_name = "exams"

urlpatterns = [
    path("", views.exams_home, name="home"),
    path("version/", views.exam_version_choose, name="version"),
    path("mock/", views.mock_instructions, name="mock"),
    path("mock/start/", views.mock_start, name="mock-start"),
    path("practice/", views.practice_new, name="practice"),
    path("review/start/", views.review_start, name="review-start"),
    path("pacing/", views.pacing_toggle, name="pacing"),
    path("a/<id:attempt_id>/", views.attempt_open, name="open"),
    path("a/<id:attempt_id>/q/<position:position>/", views.attempt_question, name="question"),
    path("a/<id:attempt_id>/q/<position:position>/answer/", views.attempt_answer, name="answer"),
    path("a/<id:attempt_id>/q/<position:position>/flag/", views.attempt_flag, name="flag"),
    path("a/<id:attempt_id>/q/<position:position>/strike/<position:option>/", views.attempt_eliminate, name="strike"),
    path("a/<id:attempt_id>/q/<position:position>/check/", views.attempt_check, name="check"),
    path("a/<id:attempt_id>/review/", views.attempt_review, name="review"),
    path("a/<id:attempt_id>/submit/", views.attempt_submit_view, name="submit"),
    path("a/<id:attempt_id>/exit/", views.attempt_exit, name="exit"),
    path("a/<id:attempt_id>/scratchpad/", views.attempt_scratchpad, name="scratchpad"),
    path("a/<id:attempt_id>/pause/", views.attempt_pause_view, name="pause"),
    path("a/<id:attempt_id>/resume/", views.attempt_resume_view, name="resume"),
]
