from django.urls import path

app_name = "configurations"
urlpatterns = []
