from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from consent.admin import admin_site
from consent.urls import audit_patterns, patient_patterns, staff_patterns
from consent.views.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="staff:session_list"), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("staff/", include(staff_patterns)),
    path("audit/", include(audit_patterns)),
    path("admin/", admin_site.urls),
    # For the load balancer: database and storage reachable (no log-in, no audit event).
    path("healthz", healthz, name="healthz"),
    path("", include(patient_patterns)),
]
