from django.urls import path

from apps.questions import views

app_name = "questions"

urlpatterns = [
    path("media/items/<uuid:media_id>/<str:name>", views.item_media, name="item-media"),
]
