from django.urls import path

from apps.scoring import views

app_name = "scoring"

urlpatterns = [
    path("results/<id:attempt_id>/", views.attempt_results, name="results"),
    path("results/<id:attempt_id>/q/<position:position>/", views.attempt_item_review, name="item-review"),
    path("results/<id:attempt_id>/q/<position:position>/report/", views.question_report, name="report"),
    path("progress/", views.progress, name="progress"),
    path("progress/rules/", views.rule_save, name="rule-save"),
    path("progress/rules.md", views.rules_markdown, name="rules-markdown"),
    path("progress/review-due/", views.review_due_start, name="review-due"),
    path("progress/outcomes/", views.outcome_create, name="outcome-create"),
    path("progress/outcomes/<id:outcome_id>/", views.outcome_edit, name="outcome-edit"),
    path("progress/outcomes/<id:outcome_id>/delete/", views.outcome_delete, name="outcome-delete"),
]
