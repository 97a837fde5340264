from django.urls import path

app_name = "testruns"
urlpatterns = []
