from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OtpChallenge, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["phone", "name", "email", "role", "language", "is_active", "date_joined"]
    list_filter = ["role", "language", "is_active", "is_staff"]
    search_fields = ["phone", "name", "email"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (_("Profile"), {"fields": ["name", "email", "language", "role"]}),
        (_("Notifications"), {"fields": ["notify_sms", "notify_whatsapp", "notify_email"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["phone", "name", "role", "password1", "password2"]})]


@admin.register(OtpChallenge)
class OtpChallengeAdmin(admin.ModelAdmin):
    list_display = ["phone", "channel", "created_at", "attempts", "delivery_status", "consumed_at", "invalidated_at"]
    list_filter = ["channel", "delivery_status"]
    search_fields = ["phone"]
    readonly_fields = [f.name for f in OtpChallenge._meta.fields if f.name != "nonce"]
    exclude = ["nonce"]

    def has_add_permission(self, request) -> bool:
        return False
