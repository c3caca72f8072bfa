from django.urls import path

from apps.cohorts import views

app_name = "cohorts"

urlpatterns = [
    path("", views.cohorts_home, name="home"),
    path("new/", views.cohort_new, name="new"),
    path("join/", views.join_by_code, name="join-code"),
    path("join/<str:token>/", views.join_by_invite, name="join-invite"),
    path("digest/off/<str:token>/", views.digest_off, name="digest-off"),
    path("<id:cohort_id>/", views.dashboard, name="dashboard"),
    path("<id:cohort_id>/digest/", views.digest_toggle, name="digest"),
    path("<id:cohort_id>/members/<id:user_id>/", views.member_detail, name="member"),
    path("<id:cohort_id>/roster/", views.roster_upload, name="roster"),
    path("<id:cohort_id>/assign/", views.assignment_new, name="assign"),
    path("<id:cohort_id>/export/<str:table>.csv", views.export_csv, name="export"),
    path("assignments/<id:assignment_id>/edit/", views.assignment_edit, name="assignment-edit"),
    path("assignments/<id:assignment_id>/delete/", views.assignment_remove, name="assignment-delete"),
    path("assignments/<id:assignment_id>/start/", views.assignment_begin, name="assignment-start"),
]
