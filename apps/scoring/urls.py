from django.urls import path

from apps.scoring import views

app_name = "scoring"

urlpatterns = [
    path("<int:attempt_id>/", views.attempt_results, name="results"),
]
