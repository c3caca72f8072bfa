from django.contrib import admin
from django.urls import include, path

from apps.core import views as core_views

admin.site.site_header = "MLA practice: authoring"
admin.site.site_title = "MLA authoring"

handler404 = core_views.not_found

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("ping/", core_views.ping, name="ping"),
    path("accounts/", include("apps.accounts.urls")),
    path("exams/", include("apps.exams.urls")),
    path("", include("apps.scoring.urls")),
    path("cohorts/", include("apps.cohorts.urls")),
    path("api/", include("config.api_urls")),
    path("", include("apps.questions.urls")),
    path("admin/", admin.site.urls),
]
