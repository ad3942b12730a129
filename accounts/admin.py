from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import TokenProxy

from .models import ApiToken, User

# Who holds which rights is a superuser's decision: a staff member allowed to
# change users (or groups) must not be able to raise their own rights, or take
# over an account that has more.
RIGHTS = ("is_staff", "is_superuser", "groups", "user_permissions")


def _outranks(request, user):
    """True when ``user`` is staff or superuser and the admin user is not a superuser (themselves aside)."""
    return (
        user is not None and not request.user.is_superuser and user.pk != request.user.pk
        and (user.is_staff or user.is_superuser)
    )


@admin.register(User)
class HandoffUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, *RIGHTS)

    def has_change_permission(self, request, obj=None):
        return not _outranks(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _outranks(request, obj) and super().has_delete_permission(request, obj)


admin.site.unregister(Group)


@admin.register(Group)
class HandoffGroupAdmin(GroupAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, "permissions")


# DRF's tokens no longer authenticate (accounts.ApiToken does; migration 0003 carried them over):
# the admin must not offer to make one.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read only: a person creates and revokes their own tokens (accounts page or API)."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
