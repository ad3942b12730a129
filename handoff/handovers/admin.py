"""Admin for handovers: mostly for looking. Contract terms, artifacts and
decisions change only through the services (permissions, lifecycle, audit),
so revisions, artifacts and reviews are read-only here."""

from django.contrib import admin

from handoff.teams.admin import AuditedAdmin

from .models import Artifact, ClaimedMetric, Comment, Handover, Model, Review, Revision


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Model)
class ModelAdmin(AuditedAdmin):
    list_display = ["name", "project", "owner", "created_at"]
    list_filter = ["project"]
    search_fields = ["name", "description"]
    raw_id_fields = ["owner"]


class RevisionInline(ReadOnlyInline):
    model = Revision
    fields = ["number", "task_type", "framework", "created_by", "submitted_at"]
    readonly_fields = fields


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "project", "state", "owner", "reviewer", "updated_at"]
    list_filter = ["state", "project"]
    search_fields = ["model__name", "version_label"]
    inlines = [RevisionInline]


class ClaimedMetricInline(ReadOnlyInline):
    model = ClaimedMetric
    fields = ["metric", "claimed_value", "minimum", "maximum"]
    readonly_fields = fields


class ArtifactInline(ReadOnlyInline):
    model = Artifact
    fields = ["kind", "original_name", "size", "sha256", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "task_type", "framework", "created_at", "submitted_at"]
    list_filter = ["task_type", "framework"]
    inlines = [ClaimedMetricInline, ArtifactInline]


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "kind", "revision", "size", "sha256", "uploaded_at"]
    list_filter = ["kind"]
    search_fields = ["original_name", "sha256"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["revision", "decision", "reviewer", "created_at"]
    list_filter = ["decision"]


@admin.register(Comment)
class CommentAdmin(AuditedAdmin):
    list_display = ["handover", "author", "created_at"]
    list_select_related = ["handover__model", "author"]
    raw_id_fields = ["handover", "revision", "author"]
