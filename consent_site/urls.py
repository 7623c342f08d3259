from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from consent.admin import admin_site
from consent.urls import audit_patterns, authoring_patterns, patient_patterns, staff_patterns
from consent.views import auth
from consent.views.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="staff:session_list"), name="home"),
    # Staff log-in: password (throttled), then the second factor (consent/views/auth.py).
    path("accounts/login/", auth.StaffLoginView.as_view(), name="login"),
    path("accounts/second-factor/", auth.second_factor, name="second_factor"),
    path("accounts/second-factor/enrol/", auth.second_factor_enrol, name="second_factor_enrol"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth.password_change, name="password_change"),
    path("accounts/password/done/", auth.password_change_done, name="password_change_done"),
    path("staff/", include(staff_patterns)),
    path("audit/", include(audit_patterns)),
    path("authoring/", include(authoring_patterns)),
    path("admin/", admin_site.urls),
    # For the load balancer: database and storage reachable (no log-in, no audit event).
    path("healthz", healthz, name="healthz"),
    path("", include(patient_patterns)),
]
