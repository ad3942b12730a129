from django.contrib import admin

from handoff.audit.services import record

from .models import Project, RoleAssignment, Team


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits bypass the services, so they leave their own audit trail."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        verb = "changed" if change else "created"
        record(request.user, f"admin.{obj._meta.model_name}.{verb}", obj, project=_project(obj),
               fields=sorted(form.changed_data))

    def delete_model(self, request, obj):
        record(request.user, f"admin.{obj._meta.model_name}.deleted", obj, project=_project(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record(request.user, f"admin.{obj._meta.model_name}.deleted", obj, project=_project(obj))
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            record(request.user, f"admin.{obj._meta.model_name}.created", obj, project=_project(obj))
        for obj, fields in formset.changed_objects:
            record(request.user, f"admin.{obj._meta.model_name}.changed", obj, project=_project(obj),
                   fields=sorted(fields))
        for obj in formset.deleted_objects:
            record(request.user, f"admin.{obj._meta.model_name}.deleted", None, project=_project(obj),
                   object=str(obj))


def _project(obj):
    if isinstance(obj, Project):
        return obj
    return getattr(obj, "project", None)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "slug", "leader", "created_at")
    search_fields = ("name", "slug", "leader__username")
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["leader"]


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    list_display = ("name", "team", "stage", "created_at")
    list_filter = ("stage", "team")
    search_fields = ("name", "slug", "team__name")
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ("team",)
    inlines = [RoleAssignmentInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdmin):
    list_display = ("user", "project", "role", "created_at")
    list_filter = ("role", "project__team")
    search_fields = ("user__username", "user__first_name", "user__last_name", "project__name")
    autocomplete_fields = ["user", "project"]
    list_select_related = ("user", "project")
