from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from handoff.teams.models import Project, Role, RoleAssignment, Team


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True, help_text="Full name, or username.")

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class ProjectRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "slug", "stage"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "user", "role"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    leader = PersonSerializer(read_only=True)
    projects = ProjectRefSerializer(
        source="visible_projects", many=True, read_only=True,
        help_text="The team's projects that you may see.",
    )

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "leader", "projects"]
        read_only_fields = fields


class ProjectSerializer(serializers.ModelSerializer):
    team = TeamRefSerializer(read_only=True)
    members = MemberSerializer(source="role_assignments", many=True, read_only=True)
    my_role = serializers.SerializerMethodField(
        help_text="Your role on this project; null when you have none."
    )

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "team", "stage", "description", "members", "my_role"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_my_role(self, project):
        # Read from the prefetched members: no query per project.
        user_id = self.context["request"].user.pk
        return next((m.role for m in project.role_assignments.all() if m.user_id == user_id), None)
